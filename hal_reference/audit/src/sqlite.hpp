// Thin RAII over the SQLite C API for the audit log and its verifier. Every
// failure throws AuditError naming the operation and SQLite's message.
#ifndef LATCHKEY_AUDIT_SRC_SQLITE_HPP
#define LATCHKEY_AUDIT_SRC_SQLITE_HPP

#include <latchkey/audit/audit_error.hpp>

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace latchkey::audit::sqlite {

class Connection;

class Statement {
 public:
  Statement(Connection& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::span<const uint8_t> blob);
  // true while a row is available; `operation` names the step in errors.
  bool step(const char* operation);
  // Steps a statement that returns no rows and resets it.
  void run(const char* operation);
  void reset();

  int column_type(int index) const { return sqlite3_column_type(stmt_, index); }
  int64_t column_int(int index) const { return sqlite3_column_int64(stmt_, index); }
  std::string column_text(int index) const;
  std::span<const uint8_t> column_blob(int index) const;

 private:
  Connection& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Connection {
 public:
  enum class Mode { kReadWriteCreate, kReadOnly };
  Connection(const std::filesystem::path& path, Mode mode);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs SQL that returns no rows (may hold several statements).
  void exec(std::string_view sql, const char* operation);
  [[noreturn]] void fail(const char* operation, int rc) const;
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace latchkey::audit::sqlite

#endif  // LATCHKEY_AUDIT_SRC_SQLITE_HPP
