#pragma once
// Answering the workbench's modal dialogs from a GUI test: QFileDialog::getSaveFileName and
// QInputDialog::getText block in their own event loop, so the answer is queued before the click.
#include <QApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QLineEdit>
#include <QTimer>

#include <functional>

namespace gafx::test {

// Calls `answer` on the next modal dialog of type D once it is up.
template <typename D> void answer_next(std::function<void(D*)> answer) {
    auto* timer = new QTimer;
    timer->setInterval(20);
    QObject::connect(timer, &QTimer::timeout, [timer, answer] {
        auto* dialog = qobject_cast<D*>(QApplication::activeModalWidget());
        if (!dialog) return;
        timer->stop();
        timer->deleteLater();
        answer(dialog);
    });
    timer->start();
}

// Answers the next file dialog with `path` (the offscreen platform has no native one).
inline void answer_file_dialog(const QString& path) {
    answer_next<QFileDialog>([path](QFileDialog* d) {
        // selectFile() of a file that does not exist yet moves to its folder but keeps the
        // suggested name; type the name as a user would.
        d->selectFile(path);
        if (auto* name = d->findChild<QLineEdit*>(QStringLiteral("fileNameEdit"))) name->setText(QFileInfo(path).fileName());
        static_cast<QDialog*>(d)->accept(); // QFileDialog hides it; the override still runs
    });
}

} // namespace gafx::test
