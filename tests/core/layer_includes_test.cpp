// Dependencies point one way (DEVELOPERS.md, "Layers"): a file under
// src/<layer>/ includes only its own layer and the layers that
// CMakeLists.txt's lmpack_layer(<layer> ... lmpack_<below> ...) line links,
// directly or through them. A static library links an upward call only by
// luck of link order, and an upward include of a header-only helper not at
// all, so the includes are checked here, against the build's own table.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

// layer -> the layers its lmpack_layer(...) line names (lmpack_<name>).
std::map<std::string, std::set<std::string>> direct_links(const std::string& cmake_text) {
  std::map<std::string, std::set<std::string>> links;
  const std::regex layer_line(R"(\nlmpack_layer\((\w+)([^)]*)\))");
  const std::regex linked(R"(lmpack_(\w+))");
  for (std::sregex_iterator it(cmake_text.begin(), cmake_text.end(), layer_line), end; it != end; ++it) {
    std::set<std::string>& below = links[(*it)[1].str()];
    const std::string args = (*it)[2].str();
    for (std::sregex_iterator l(args.begin(), args.end(), linked); l != end; ++l) below.insert((*l)[1].str());
  }
  return links;
}

std::set<std::string> reachable(const std::map<std::string, std::set<std::string>>& links, const std::string& layer) {
  std::set<std::string> seen{layer};
  std::vector<std::string> todo{layer};
  while (!todo.empty()) {
    const std::string at = todo.back();
    todo.pop_back();
    auto it = links.find(at);
    if (it == links.end()) continue;
    for (const std::string& next : it->second)
      if (seen.insert(next).second) todo.push_back(next);
  }
  return seen;
}

TEST(LayerIncludes, EveryIncludeIsOfALayerBelow) {
  const fs::path root = testing::source_dir();
  std::ifstream cmake(root / "CMakeLists.txt");
  ASSERT_TRUE(cmake) << root / "CMakeLists.txt";
  std::stringstream text;
  text << cmake.rdbuf();
  const auto links = direct_links(text.str());
  // The table must be the real one: every folder under src/ is a layer, and
  // the layers the brief splits apart are there.
  for (const char* layer : {"core", "tokenizer", "model", "runtime", "methods", "pipeline"})
    EXPECT_TRUE(links.count(layer)) << "no lmpack_layer(" << layer << " ...) in CMakeLists.txt";
  const std::regex project_include(R"re(^\s*#\s*include\s+"(\w+)/)re");
  int files = 0;
  for (const auto& folder : fs::directory_iterator(root / "src")) {
    if (!folder.is_directory()) continue;
    const std::string layer = folder.path().filename().string();
    ASSERT_TRUE(links.count(layer)) << "src/" << layer << " is not a layer in CMakeLists.txt";
    const std::set<std::string> allowed = reachable(links, layer);
    for (const auto& entry : fs::directory_iterator(folder.path())) {
      const std::string ext = entry.path().extension().string();
      if (ext != ".cpp" && ext != ".h") continue;
      ++files;
      std::ifstream in(entry.path());
      std::string line;
      std::smatch m;
      for (int n = 1; std::getline(in, line); ++n) {
        if (!std::regex_search(line, m, project_include)) continue;
        EXPECT_TRUE(allowed.count(m[1].str()))
            << "src/" << layer << "/" << entry.path().filename().string() << ":" << n << " includes " << m[1].str()
            << "/, which layer " << layer << " does not link: " << line;
      }
    }
  }
  EXPECT_GT(files, 100) << "the scan found too few sources under " << root / "src";
}

}  // namespace
}  // namespace lmpack
