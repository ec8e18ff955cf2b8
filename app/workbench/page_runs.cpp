#include "pages.h"

#include <QLabel>

namespace gafx::app {

// Scaffold until the runs page lands (issue 6); replaced wholesale by its own change.
QWidget* create_runs_page(AppContext&, QWidget* parent) { return new QLabel(QStringLiteral("runs"), parent); }

} // namespace gafx::app
