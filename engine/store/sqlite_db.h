#pragma once
// Thin RAII over the SQLite C API, used only inside engine/store: a connection, prepared
// statements with typed binds, and a transaction that rolls back unless committed.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

namespace gafx::store {

class Db {
public:
    explicit Db(const std::string& path);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    void exec(const std::string& sql);
    sqlite3* handle() const { return db_; }
    const std::string& path() const { return path_; }
    [[noreturn]] void fail(const std::string& what) const;

private:
    sqlite3* db_ = nullptr;
    std::string path_;
};

class Stmt {
public:
    Stmt(Db& db, const char* sql);
    ~Stmt();
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& bind(int i, int64_t v);
    Stmt& bind(int i, int v) { return bind(i, int64_t(v)); }
    Stmt& bind(int i, double v);
    Stmt& bind(int i, const std::string& v);
    Stmt& bind(int i, const char* v) { return bind(i, std::string(v)); }
    Stmt& bind_blob(int i, const void* data, int bytes);
    Stmt& bind_null(int i);

    bool step(); // true while a row is available
    void run();  // step to completion, then reset for reuse
    void reset();

    int64_t int64(int col) const;
    double real(int col) const;
    std::string text(int col) const;
    bool is_null(int col) const;

private:
    Db& db_;
    sqlite3_stmt* stmt_ = nullptr;
};

class Transaction {
public:
    explicit Transaction(Db& db); // BEGIN IMMEDIATE: take the write lock up front
    ~Transaction();               // rolls back if commit() was not reached
    void commit();

private:
    Db& db_;
    bool done_ = false;
};

} // namespace gafx::store
