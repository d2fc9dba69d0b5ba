#pragma once

#include <EditorHeaders.h>

class PyprocProcessor;

/** Script chooser, stream selector, permissions (pyproc run's --allow-* flags), reload
    button and a status line that opens the last error's traceback (in a window that does
    not block acquisition). */
class PyprocEditor : public GenericEditor, private Button::Listener, private Timer
{
public:
    explicit PyprocEditor (PyprocProcessor* processor);

private:
    void buttonClicked (Button* button) override;
    void timerCallback() override;

    PyprocProcessor* pyproc;
    std::unique_ptr<TextButton> reloadButton;
    std::unique_ptr<TextButton> statusButton;

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (PyprocEditor);
};
