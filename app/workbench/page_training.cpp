#include "pages.h"

#include <QLabel>

namespace gafx::app {

// Scaffold until the training page lands (issue 6); replaced wholesale by its own change.
QWidget* create_training_page(AppContext&, QWidget* parent) { return new QLabel(QStringLiteral("training"), parent); }

} // namespace gafx::app
