#pragma once
// The open workspace database, for the GUI thread: quick reads (runs, metrics, datasets) go
// through its own RunStore connection; a 1 s poll of SQLite's data_version notices commits
// from other connections (the trainer thread, a `gafx train` in a terminal) and announces them.
#include "store/run_store.h"

#include <QObject>
#include <QString>
#include <QTimer>

#include <memory>

namespace gafx::app {

class Workspace : public QObject {
    Q_OBJECT
public:
    // Throws gafx::Error when the database cannot be opened.
    explicit Workspace(const QString& db_path, QObject* parent = nullptr);
    ~Workspace() override;

    QString path() const { return path_; }
    store::RunStore& store() { return *store_; }
    // Checks for outside commits now (also done every second).
    void poll();

Q_SIGNALS:
    void changed(); // something was committed by another connection

private:
    QString path_;
    std::unique_ptr<store::RunStore> store_;
    int64_t version_ = -1;
    QTimer timer_;
};

} // namespace gafx::app
