#include "pages.h"

#include <QLabel>

namespace gafx::app {

// Scaffold until the experiment page lands (issue 6); replaced wholesale by its own change.
QWidget* create_experiment_page(AppContext&, QWidget* parent) { return new QLabel(QStringLiteral("experiment"), parent); }

} // namespace gafx::app
