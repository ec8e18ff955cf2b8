#include "workspace.h"

#include <exception>

namespace gafx::app {

Workspace::Workspace(const QString& db_path, QObject* parent)
    : QObject(parent), path_(db_path), store_(std::make_unique<store::RunStore>(db_path.toStdString())) {
    version_ = store_->data_version();
    connect(&timer_, &QTimer::timeout, this, &Workspace::poll);
    timer_.start(1000);
}

Workspace::~Workspace() = default;

void Workspace::poll() {
    // A timer's slot: a locked or vanished database is tried again at the next tick.
    int64_t v = version_;
    try {
        v = store_->data_version();
    } catch (const std::exception&) {
        return;
    }
    if (v == version_) return;
    version_ = v;
    Q_EMIT changed();
}

} // namespace gafx::app
