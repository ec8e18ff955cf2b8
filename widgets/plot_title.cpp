#include "plot_title.h"

#include "qcustomplot_include.h"

namespace gafx::widgets {

void set_plot_title(QCustomPlot* plot, const QString& title) {
    if (plot->plotLayout()->rowCount() == 1) {
        plot->plotLayout()->insertRow(0);
        plot->plotLayout()->addElement(0, 0, new QCPTextElement(plot, title, QFont(plot->font().family(), -1, QFont::Bold)));
    } else if (auto* t = qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0))) {
        t->setText(title);
    }
}

} // namespace gafx::widgets
