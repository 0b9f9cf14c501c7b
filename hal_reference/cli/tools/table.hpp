// A plain text table with columns as wide as their widest cell.
#ifndef LATCHKEY_LKCTL_TABLE_HPP
#define LATCHKEY_LKCTL_TABLE_HPP

#include <ostream>
#include <string>
#include <vector>

namespace lkctl {

class Table {
 public:
  explicit Table(std::vector<std::string> header);
  // Cells longer than max_cell characters are cut with "...".
  void add(std::vector<std::string> row);
  void print(std::ostream& out) const;
  std::size_t rows() const { return rows_.size(); }

  static constexpr std::size_t kMaxCell = 60;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace lkctl

#endif  // LATCHKEY_LKCTL_TABLE_HPP
