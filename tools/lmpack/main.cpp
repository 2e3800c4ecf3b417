// lmpack: the command-line tool. Parses options, builds a request, calls the
// library. The only place that catches lmpack::Error.
#include <cstdio>
int main() { return 0; }
