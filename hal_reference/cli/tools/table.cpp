#include "table.hpp"

#include <algorithm>

namespace lkctl {

Table::Table(std::vector<std::string> header) : header_(std::move(header)) {}

void Table::add(std::vector<std::string> row) {
  row.resize(header_.size());
  for (std::string& cell : row) {
    if (cell.empty()) cell.assign(1, '-');
    if (cell.size() > kMaxCell) {
      cell.resize(kMaxCell - 3);
      cell.append("...");
    }
  }
  rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> widths(header_.size());
  for (std::size_t c = 0; c < header_.size(); ++c) {
    widths[c] = header_[c].size();
    for (const auto& row : rows_) widths[c] = std::max(widths[c], row[c].size());
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      text += cells[c];
      if (c + 1 < cells.size()) text += std::string(widths[c] - cells[c].size() + 2, ' ');
    }
    out << text << "\n";
  };
  line(header_);
  for (const auto& row : rows_) line(row);
}

}  // namespace lkctl
