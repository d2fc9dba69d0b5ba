#include "PyprocEditor.h"

#include "PyprocCanvas.h"
#include "PyprocProcessor.h"

PyprocEditor::PyprocEditor (PyprocProcessor* processor) : VisualizerEditor (processor, "pyproc plots", 330), pyproc (processor)
{

    addPathParameterEditor (Parameter::PROCESSOR_SCOPE, "script", 10, 25);
    addSelectedStreamParameterEditor (Parameter::PROCESSOR_SCOPE, "stream", 10, 47);
    addToggleParameterEditor (Parameter::PROCESSOR_SCOPE, "all_streams", 10, 69);
    // A narrow box with its label beside it, right of the script's.
    addCustomParameterEditor (new TextBoxParameterEditor (getProcessor()->getParameter ("shards"), 18, 120), 200, 25);
    addCustomParameterEditor (new TextBoxParameterEditor (getProcessor()->getParameter ("deadline"), 18, 120), 200, 47);
    // A wide text box: flags and paths are long (the tooltip lists the flags).
    Parameter* permissions = getProcessor()->getParameter ("permissions");
    permissions->setParameterEditorType (Parameter::ParameterEditorType::TEXTBOX_EDITOR);
    addCustomParameterEditor (new TextBoxParameterEditor (permissions, 18, 360), 10, 91);

    reloadButton = std::make_unique<TextButton> ("Reload");
    reloadButton->setTooltip ("Load the script again; the running one keeps going until the new one is ready");
    reloadButton->addListener (this);
    reloadButton->setBounds (200, 69, 70, 18);
    addAndMakeVisible (reloadButton.get());

    statusButton = std::make_unique<TextButton> ("status");
    statusButton->setTooltip ("Click for the last error in full");
    statusButton->addListener (this);
    statusButton->setBounds (10, 112, 260, 18);
    addAndMakeVisible (statusButton.get());

    startTimer (250);
}

Visualizer* PyprocEditor::createNewCanvas()
{
    return new PyprocCanvas (pyproc);
}

void PyprocEditor::buttonClicked (Button* button)
{
    if (button == reloadButton.get())
    {
        pyproc->reloadScript();
    }
    else if (button == statusButton.get())
    {
        const String details = pyproc->getLastErrorDetails();
        // Asynchronous: acquisition and the chain keep running while it is open.
        AlertWindow::showMessageBoxAsync (MessageBoxIconType::WarningIcon,
                                          "pyproc",
                                          details.isEmpty() ? pyproc->getStatusLine() : details);
    }
}

void PyprocEditor::timerCallback()
{
    const String status = pyproc->getStatusLine();
    statusButton->setButtonText (status);
    // Red: an error or switched off; amber: an interpreter being replaced; green: running.
    const bool failed = status.startsWith ("error") || status.startsWith ("switched off");
    const bool amber = status.startsWith ("restarting") || status.startsWith ("cannot keep up");
    const Colour colour = failed ? Colour (0xffb04040) : amber ? Colour (0xffb08030) : Colour (0xff3a6a3a);
    statusButton->setColour (TextButton::buttonColourId, colour);
}
