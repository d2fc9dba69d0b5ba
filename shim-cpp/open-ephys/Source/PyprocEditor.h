#pragma once

#include <VisualizerEditorHeaders.h>

class PyprocProcessor;

/** Script chooser, stream selector, permissions (pyproc run's --allow-* flags), reload
    button and a status line that opens the last error's traceback (in a window that does
    not block acquisition); its tab and window buttons open the "pyproc plots" tab, where
    the script's PyVisualizer draws (PyprocCanvas). */
class PyprocEditor : public VisualizerEditor, private Button::Listener, private Timer
{
public:
    explicit PyprocEditor (PyprocProcessor* processor);

    Visualizer* createNewCanvas() override;

private:
    void buttonClicked (Button* button) override;
    void timerCallback() override;

    PyprocProcessor* pyproc;
    std::unique_ptr<TextButton> reloadButton;
    std::unique_ptr<TextButton> statusButton;

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (PyprocEditor);
};
