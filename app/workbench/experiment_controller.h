#pragma once
// The Experiment page's controller: wires widgets::ExperimentView to the experiment parser, the
// workspace and the trainer. Every edit is validated by experiments::parse_experiment and its
// error's field().key picks the field to mark; Train queues the experiment as `gafx train` does
// (experiments::queue), then hands the run ids to the trainer.
#include "pages.h"

#include <QList>
#include <QObject>
#include <QPair>
#include <QString>

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

class QStatusBar;

namespace gafx {
class Error;
}

namespace gafx::widgets {
class ExperimentView;
}

namespace gafx::app {

class Workspace;
class TrainingWorker;

class ExperimentController : public QObject {
    Q_OBJECT
public:
    // Parented to `view`, so it lives as long as the page.
    ExperimentController(AppContext& ctx, widgets::ExperimentView* view);

private:
    void refresh();
    // Shows the parser's first complaint at its field; Train only for an experiment that parses.
    bool validate();
    void show_error(const Error& e);
    void open(const QString& path, bool preset);
    void save(const QString& path);
    void train();

    Workspace* workspace_;
    TrainingWorker* trainer_;
    QStatusBar* status_;
    std::function<void(Page)> show_page_;
    widgets::ExperimentView* view_;
    std::set<std::string> datasets_; // imported names, for the parser's dataset check as one types
    bool stale_ = false;
    std::vector<std::pair<int64_t, double>> runs_sig_; // the finished runs listed: id, val track accuracy
};

} // namespace gafx::app
