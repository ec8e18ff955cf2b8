#include "workspace.h"

namespace gafx::app {

Workspace::Workspace(const QString& db_path, QObject* parent)
    : QObject(parent), path_(db_path), store_(std::make_unique<store::RunStore>(db_path.toStdString())) {
    version_ = store_->data_version();
    connect(&timer_, &QTimer::timeout, this, &Workspace::poll);
    timer_.start(1000);
}

Workspace::~Workspace() = default;

void Workspace::poll() {
    const int64_t v = store_->data_version();
    if (v == version_) return;
    version_ = v;
    Q_EMIT changed();
}

} // namespace gafx::app
