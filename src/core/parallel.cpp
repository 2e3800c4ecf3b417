#include "core/parallel.h"

#include <omp.h>

#include <thread>

namespace lmpack {

int hardware_threads() {
  const int n = static_cast<int>(std::thread::hardware_concurrency());
  return n > 0 ? n : 1;
}

int set_num_threads(int n) {
  const int hardware = hardware_threads();
  if (n <= 0 || n > hardware) n = hardware;
  omp_set_num_threads(n);
  return n;
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace lmpack
