// The "pyproc plots" tab: each stream's latest frame from its script's PyVisualizer.
#pragma once

#include <VisualizerWindowHeaders.h>

#include <pyproc/processor.h>

#include <map>

class PyprocProcessor;

/** Shows, one panel per stream the script runs on (labelled with the stream's name), the
    latest figure the script's PyVisualizer drew, scaled to the panel keeping its aspect;
    the viewer's error when it fails; or why there is nothing to show. Everything here
    runs on the message thread: a timer asks each stream's processor for a newer frame
    (a copy, never a wait for the audio thread or the viewer) and repaints only when one
    came or a state changed. */
class PyprocCanvas : public Visualizer
{
public:
    explicit PyprocCanvas (PyprocProcessor* processor);
    ~PyprocCanvas() override;

    /** Timer (message thread): takes newer frames and states; repaints on a change. */
    void refresh() override;
    /** The streams changed (a load or new settings): panels are matched to them again. */
    void refreshState() override;
    void updateSettings() override;
    /** Runs while the tab exists, acquiring or not: a script loaded before acquisition
        shows its state (starting, no PyVisualizer, an error) at once. */
    void beginAnimation() override;
    void endAnimation() override;

    void paint (Graphics& g) override;

private:
    struct Panel
    {
        String label;
        /** The processor the frame came from: a new one starts its frames from 1 again. */
        const pyproc::Processor* source = nullptr;
        pyproc::PlotFrame frame {};
        Image image;
        pyproc::PlotState state = pyproc::PlotState::Off;
        uint64 errorSequence = 0;
        String error;
        bool running = false;
    };

    /** Copies `frame`'s RGBA pixels into `image` (JUCE's premultiplied ARGB). */
    static void toImage (const pyproc::PlotFrame& frame, Image& image);
    void paintPanel (Graphics& g, const Panel& panel, Rectangle<int> area) const;

    PyprocProcessor* pyproc;
    /** By stream id. */
    std::map<uint16, Panel> panels;

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (PyprocCanvas);
};
