#include "pages.h"

#include <QLabel>

namespace gafx::app {

// Scaffold until the datasets page lands (issue 6); replaced wholesale by its own change.
QWidget* create_datasets_page(AppContext&, QWidget* parent) { return new QLabel(QStringLiteral("datasets"), parent); }

} // namespace gafx::app
