// Keeping the memory a process frees for its own next allocations.
//
// glibc's malloc maps every allocation above 32 MB afresh and unmaps it on
// free, so a job that makes such buffers layer after layer (the calibration
// pipeline: Hessians of up to 1 GB, weight copies, a block's activations for
// every token) touches new pages each time, and each new page is a page
// fault. On the VM lmpack is developed on, that is 2.9 s per GB; memory the
// process already holds is rewritten at 20 GB/s. keep_freed_memory() raises
// glibc's mapping threshold to 1 GiB and its trim threshold likewise, so that
// such buffers come from the heap and go back to it when freed, for the next
// one to reuse.
//
// It is a process-wide choice, so the library never makes it on its own: the
// lmpack command calls it first thing, and a program that embeds the library
// may. What it costs: freed memory stays with the process until it exits (the
// peak resident set is what it was; the resident set after the peak is not
// lower than before). Does nothing where the C library is not glibc.
#pragma once

namespace lmpack {

void keep_freed_memory();

}  // namespace lmpack
