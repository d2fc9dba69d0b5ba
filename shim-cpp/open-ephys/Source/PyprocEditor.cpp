#include "PyprocEditor.h"

#include "PyprocProcessor.h"

PyprocEditor::PyprocEditor (PyprocProcessor* processor) : GenericEditor (processor), pyproc (processor)
{
    desiredWidth = 260;

    addPathParameterEditor (Parameter::PROCESSOR_SCOPE, "script", 10, 25);
    addSelectedStreamParameterEditor (Parameter::PROCESSOR_SCOPE, "stream", 10, 50);
    addToggleParameterEditor (Parameter::PROCESSOR_SCOPE, "all_streams", 10, 75);

    reloadButton = std::make_unique<TextButton> ("Reload");
    reloadButton->setTooltip ("Load the script again; the running one keeps going until the new one is ready");
    reloadButton->addListener (this);
    reloadButton->setBounds (180, 78, 70, 20);
    addAndMakeVisible (reloadButton.get());

    statusButton = std::make_unique<TextButton> ("status");
    statusButton->setTooltip ("Click for the last error in full");
    statusButton->addListener (this);
    statusButton->setBounds (10, 103, 240, 20);
    addAndMakeVisible (statusButton.get());

    startTimer (250);
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
    statusButton->setColour (TextButton::buttonColourId, status.startsWith ("error") ? Colour (0xffb04040) : Colour (0xff3a6a3a));
}
