#include "pages.h"

#include <QLabel>

namespace gafx::app {

// Scaffold until the inspector page lands (issue 6); replaced wholesale by its own change.
QWidget* create_inspector_page(AppContext&, QWidget* parent) { return new QLabel(QStringLiteral("inspector"), parent); }

} // namespace gafx::app
