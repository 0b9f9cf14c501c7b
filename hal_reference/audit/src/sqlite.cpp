#include "sqlite.hpp"

namespace latchkey::audit::sqlite {

Connection::Connection(const std::filesystem::path& path, Mode mode) : path_(path.string()) {
  const int flags = mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY
                                            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path_.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw AuditError("audit: open " + path_ + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() { sqlite3_close(db_); }

void Connection::exec(std::string_view sql, const char* operation) {
  const std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw AuditError(std::string("audit: ") + operation + " (" + path_ + "): " + message);
  }
}

void Connection::fail(const char* operation, int rc) const {
  const char* message = sqlite3_errmsg(db_);
  // errmsg may describe an older call when rc came from elsewhere; keep both.
  throw AuditError(std::string("audit: ") + operation + " (" + path_ + "): " +
                   (message != nullptr ? message : "") + " [" + sqlite3_errstr(rc) + "]");
}

Statement::Statement(Connection& db, std::string_view sql) : db_(db) {
  const int rc = sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) db.fail("prepare statement", rc);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) db_.fail("bind integer", rc);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  // An empty string_view may carry a null data pointer, which SQLite would store as NULL.
  const char* data = text.data() != nullptr ? text.data() : "";
  const int rc = sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_.fail("bind text", rc);
  return *this;
}

Statement& Statement::bind_blob(int index, std::span<const uint8_t> blob) {
  static const uint8_t kEmpty = 0;
  const uint8_t* data = blob.data() != nullptr ? blob.data() : &kEmpty;
  const int rc = sqlite3_bind_blob64(stmt_, index, data, blob.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_.fail("bind blob", rc);
  return *this;
}

bool Statement::step(const char* operation) {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  db_.fail(operation, rc);
}

void Statement::run(const char* operation) {
  while (step(operation)) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::column_text(int index) const {
  const auto* text = sqlite3_column_text(stmt_, index);
  const int size = sqlite3_column_bytes(stmt_, index);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::span<const uint8_t> Statement::column_blob(int index) const {
  const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, index));
  const int size = sqlite3_column_bytes(stmt_, index);
  if (blob == nullptr) return {};
  return {blob, static_cast<std::size_t>(size)};
}

}  // namespace latchkey::audit::sqlite
