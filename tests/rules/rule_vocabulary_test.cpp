// The rule IDs as a type (hal_reference/rules) against docs/rules.md, and the
// repository against citing a rules document it does not hold.
#include <latchkey/rules/record_kind.hpp>
#include <latchkey/rules/rule.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

const fs::path kRoot = LATCHKEY_SOURCE_DIR;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RuleVocabulary, A1_EveryIdOfTheDocumentIsARuleAndNoOther) {
  const std::string doc = read(kRoot / "docs" / "rules.md");
  ASSERT_FALSE(doc.empty());
  // Table rows "| U5 | ..." and invariants "**I3**" (no std::regex: GCC 12
  // warns inside <regex> under the sanitizers, and -Werror stops the build).
  std::set<std::string> in_doc;
  const auto is_id = [](const std::string& s, const std::string& letters) {
    return s.size() == 2 && letters.find(s[0]) != std::string::npos && s[1] >= '0' && s[1] <= '9';
  };
  std::istringstream lines(doc);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > 6 && line.compare(0, 2, "| ") == 0 && line.compare(4, 2, " |") == 0 && is_id(line.substr(2, 2), "GCUFA"))
      in_doc.insert(line.substr(2, 2));
    for (std::size_t at = line.find("**I"); at != std::string::npos; at = line.find("**I", at + 1))
      if (line.compare(at + 4, 2, "**") == 0 && is_id(line.substr(at + 2, 2), "I")) in_doc.insert(line.substr(at + 2, 2));
  }
  std::set<std::string> in_code;
  for (const latchkey::Rule* r = latchkey::all_rules_begin(); r != latchkey::all_rules_end(); ++r) {
    const std::string name(latchkey::name(*r));
    in_code.insert(name);
    EXPECT_EQ(latchkey::rule_from_name(name), *r) << name;
    EXPECT_FALSE(latchkey::title(*r).empty()) << name;
  }
  EXPECT_EQ(in_doc, in_code);
  EXPECT_EQ(latchkey::rule_from_name(""), latchkey::Rule::kNone);
  EXPECT_EQ(latchkey::rule_from_name("U9"), std::nullopt);
  EXPECT_EQ(latchkey::rule_from_name("u5"), std::nullopt);
}

TEST(RuleVocabulary, A1_RecordKindsRoundTrip) {
  for (int i = 0; i <= static_cast<int>(latchkey::RecordKind::kLogRecovered); ++i) {
    const auto kind = static_cast<latchkey::RecordKind>(i);
    EXPECT_EQ(latchkey::record_kind_from_name(latchkey::name(kind)), kind) << i;
  }
  EXPECT_EQ(latchkey::record_kind_from_name("opened"), std::nullopt);
}

TEST(RuleVocabulary, NoFileCitesARulesDocumentOutsideTheRepository) {
  const std::string outside = std::string("RULES") + ".md";  // spelled so this file does not cite it
  std::vector<std::string> citing;
  for (auto it = fs::recursive_directory_iterator(kRoot); it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && (name == ".git" || name.rfind("build", 0) == 0)) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || it->file_size() > 4'000'000) continue;
    if (read(it->path()).find(outside) != std::string::npos) citing.push_back(fs::relative(it->path(), kRoot).string());
  }
  EXPECT_TRUE(citing.empty()) << "cite " << outside << " instead of docs/rules.md: " << ::testing::PrintToString(citing);
}

}  // namespace
