// One-line notices for the user that are not errors (a stale temporary was
// removed, an old output folder could not be deleted). By default each goes
// to stderr as "lmpack: <text>"; a library user may route them elsewhere.
#pragma once

#include <functional>
#include <string>

namespace lmpack {

void notice(const std::string& text);

// Replaces where notices go (nullptr: back to stderr). Returns the previous one.
using NoticeHandler = std::function<void(const std::string&)>;
NoticeHandler set_notice_handler(NoticeHandler handler);

}  // namespace lmpack
