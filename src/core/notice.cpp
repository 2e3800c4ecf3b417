#include "core/notice.h"

#include <cstdio>
#include <mutex>
#include <utility>

namespace lmpack {
namespace {

std::mutex& notice_mutex() {
  static std::mutex m;
  return m;
}
NoticeHandler& handler() {
  static NoticeHandler h;
  return h;
}

}  // namespace

void notice(const std::string& text) {
  std::lock_guard lock(notice_mutex());
  if (handler()) {
    handler()(text);
    return;
  }
  std::fprintf(stderr, "lmpack: %s\n", text.c_str());
  std::fflush(stderr);
}

NoticeHandler set_notice_handler(NoticeHandler h) {
  std::lock_guard lock(notice_mutex());
  return std::exchange(handler(), std::move(h));
}

}  // namespace lmpack
