// The demo's story grammar; see demo_corpus.h.
#include "demo/demo_corpus.h"

#include <array>

#include "core/hash.h"

namespace lmpack {
namespace {

class Draw {
 public:
  explicit Draw(uint64_t seed) : state_(seed) {}
  size_t below(size_t n) { return static_cast<size_t>(splitmix64_next(state_) % n); }
  template <size_t N>
  const char* pick(const std::array<const char*, N>& a) {
    return a[below(N)];
  }
  bool chance(int percent) { return below(100) < static_cast<size_t>(percent); }

 private:
  uint64_t state_;
};

constexpr std::array<const char*, 10> kGirls = {"Lily", "Mia", "Sara", "Anna", "Emma", "Zoe", "Lucy", "Ella", "Amy", "Kim"};
constexpr std::array<const char*, 10> kBoys = {"Tom", "Ben", "Max", "Sam", "Leo", "Jack", "Tim", "Noah", "Dan", "Bob"};
constexpr std::array<const char*, 12> kAnimals = {"dog",  "cat",  "bird", "bunny", "frog",  "duck",
                                                  "fox",  "bear", "mouse", "puppy", "kitten", "owl"};
constexpr std::array<const char*, 14> kObjects = {"ball", "kite", "box",  "hat",  "book",  "cake",  "boat",
                                                  "car",  "doll", "drum", "cup",  "shell", "flower", "toy"};
constexpr std::array<const char*, 10> kLooks = {"red",   "blue",   "green", "yellow", "big",
                                                "little", "shiny", "soft",  "pretty", "old"};
constexpr std::array<const char*, 10> kColors = {"red",  "blue",  "green", "yellow", "pink",
                                                 "white", "black", "brown", "orange", "purple"};
constexpr std::array<const char*, 10> kPlaces = {"park", "garden", "forest", "beach", "house",
                                                 "school", "farm", "river", "hill", "yard"};
constexpr std::array<const char*, 8> kFeelings = {"happy", "sad", "scared", "excited", "tired", "proud", "angry", "surprised"};
constexpr std::array<const char*, 10> kPlays = {"play", "run", "jump", "dance", "sing", "read", "swim", "climb", "hide", "laugh"};
constexpr std::array<const char*, 6> kOpenings = {"One day", "Once upon a time", "In the morning", "After lunch",
                                                  "On a sunny day", "Long ago"};
constexpr std::array<const char*, 6> kLost = {"fell into the water", "went up into a tree", "rolled under a rock",
                                              "got stuck in the mud", "flew away in the wind", "was lost in the grass"};
constexpr std::array<const char*, 5> kHelps = {"helped", "found a way to help", "tried hard to help", "came to help",
                                               "wanted to help"};
constexpr std::array<const char*, 5> kEndings = {"They played in the {place} all day.", "They were best friends from that day.",
                                                 "Every day after that, they met in the {place}.",
                                                 "{Name} went home with a big smile.", "It was the best day ever."};

std::string capital(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

std::string story(Draw& d) {
  const bool girl = d.chance(50);
  const std::string name = girl ? d.pick(kGirls) : d.pick(kBoys);
  const std::string he = girl ? "she" : "he", him = girl ? "her" : "him", his = girl ? "her" : "his";
  const std::string animal = d.pick(kAnimals), object = d.pick(kObjects), place = d.pick(kPlaces);
  const std::string look = d.pick(kColors), play = d.pick(kPlays);
  std::string s;
  if (d.chance(50))
    s += std::string(d.pick(kOpenings)) + ", there was a " + (d.chance(50) ? "little " : "") + (girl ? "girl" : "boy") +
         " named " + name + ".";
  else
    s += std::string(d.pick(kOpenings)) + ", " + name + " went to the " + place + ".";
  // Three things with their colors: the story asks for one color again near
  // its end, which only a model that kept the pairs can predict.
  std::array<std::string, 3> things = {object, "", ""}, colors = {look, "", ""};
  for (size_t k = 1; k < 3; ++k) {
    do things[k] = d.pick(kObjects);
    while (things[k] == things[0] || (k == 2 && things[k] == things[1]));
    do colors[k] = d.pick(kColors);
    while (colors[k] == colors[0] || (k == 2 && colors[k] == colors[1]));
  }
  // ' ' on its own, not " " + capital(he): GCC 12 warns (-Wrestrict) inside libstdc++ on that form.
  s += ' ';
  s += capital(he) + " had a " + colors[0] + " " + things[0] + ", a " + colors[1] + " " + things[1] + " and a " +
       colors[2] + " " + things[2] + ".";
  s += ' ';
  s += capital(he) + " liked to " + play + " with " + his + " " + object + " in the " + place + ".";
  if (d.chance(60)) s += " " + name + " was very " + d.pick(kFeelings) + ".";
  s += " Then " + he + " saw a " + (d.chance(50) ? std::string(d.pick(kLooks)) + " " : "") + animal + ".";
  s += " The " + animal + " wanted to " + d.pick(kPlays) + " too.";
  s += " " + name + " asked the " + animal + " to " + play + " with " + him + ".";
  if (d.chance(70)) {
    s += " But the " + object + " " + d.pick(kLost) + ".";
    s += " " + name + " felt " + d.pick(kFeelings) + ".";
    s += " The " + animal + " " + d.pick(kHelps) + " " + name + " get the " + object + " back.";
  } else {
    s += " The " + animal + " was " + d.pick(kFeelings) + " and ran to the " + place + ".";
    s += " " + name + " ran after the " + animal + ".";
  }
  const size_t asked = d.below(3);
  s += " At home, " + name + " looked at the " + things[asked] + ". It was " + colors[asked] + ".";
  s += " " + name + " and the " + animal + " became good friends.";
  s += ' ';
  s += replace_all(replace_all(d.pick(kEndings), "{place}", place), "{Name}", name);
  return s;
}

}  // namespace

std::vector<std::string> demo_stories(int64_t count, uint64_t seed) {
  Draw d(seed * 0x9e3779b97f4a7c15ull + 1);
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out.push_back(story(d));
  return out;
}

std::string demo_text(const std::vector<std::string>& stories) {
  std::string text;
  for (size_t i = 0; i < stories.size(); ++i) {
    if (i) text += std::string("\n") + kDemoStorySeparator + "\n";
    text += stories[i];
  }
  return text + "\n";
}

}  // namespace lmpack
