// Text for the demo (`lmpack demo`) with nothing downloaded: short stories
// in the style of TinyStories, made from a small grammar with a seeded
// generator. A story keeps its hero (name and pronoun), object, animal and
// place from its first sentence to its last, so a model must carry them over
// many tokens; the word list is fixed (about 180 words), so a small
// vocabulary holds every story whole.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lmpack {

// `count` stories from `seed` (the same seed, the same stories).
std::vector<std::string> demo_stories(int64_t count, uint64_t seed);

// The stories joined as TinyStories' files are: "\n<|endoftext|>\n" between them.
std::string demo_text(const std::vector<std::string>& stories);

inline constexpr const char* kDemoStorySeparator = "<|endoftext|>";

}  // namespace lmpack
