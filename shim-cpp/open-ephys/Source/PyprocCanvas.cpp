#include "PyprocCanvas.h"

#include "PyprocProcessor.h"

PyprocCanvas::PyprocCanvas (PyprocProcessor* processor) : Visualizer (processor), pyproc (processor)
{
    // Looks for new frames ten times a second: as often as the viewers get new values.
    refreshRate = 10;
    refresh();
    startCallbacks();
}

PyprocCanvas::~PyprocCanvas()
{
    stopCallbacks();
}

void PyprocCanvas::beginAnimation()
{
    startCallbacks();
}

void PyprocCanvas::endAnimation()
{
    // Keeps polling: the viewers' states are worth showing outside acquisition too.
}

void PyprocCanvas::refreshState()
{
    refresh();
}

void PyprocCanvas::updateSettings()
{
    refresh();
}

void PyprocCanvas::refresh()
{
    bool changed = false;
    std::map<uint16, Panel> now;
    for (const PyprocProcessor::PlotSource& source : pyproc->getPlotSources())
    {
        auto old = panels.find (source.streamId);
        Panel panel = old != panels.end() ? std::move (old->second) : Panel {};
        changed |= old == panels.end() || panel.label != source.label || panel.running != (source.processor != nullptr);
        panel.label = source.label;
        panel.running = source.processor != nullptr;
        if (source.processor != panel.source)
        {
            panel.source = source.processor;
            panel.frame = pyproc::PlotFrame {};
            panel.image = Image();
            changed = true;
        }
        if (source.processor != nullptr)
        {
            const pyproc::PlotStatus status = source.processor->plot_status();
            if (status.state != panel.state || status.error.sequence != panel.errorSequence)
            {
                panel.state = status.state;
                panel.errorSequence = status.error.sequence;
                panel.error = String::fromUTF8 (status.error.message.data(), (int) status.error.message.size());
                // The message of an exception holds its traceback already.
                const String traceback = String::fromUTF8 (status.error.traceback.data(), (int) status.error.traceback.size());
                if (traceback.isNotEmpty() && ! panel.error.contains (traceback.trim()))
                    panel.error << "\n" << traceback;
                changed = true;
            }
            // A viewer starting afresh (a reload, a new stream) or none: the old frame goes.
            const bool noFrame = status.state == pyproc::PlotState::Starting || status.state == pyproc::PlotState::NoVisualizer;
            if (noFrame && panel.image.isValid())
            {
                panel.image = Image();
                panel.frame = pyproc::PlotFrame {};
                changed = true;
            }
            if (source.processor->latest_frame (panel.frame))
            {
                toImage (panel.frame, panel.image);
                changed = true;
            }
        }
        now[source.streamId] = std::move (panel);
    }
    changed |= now.size() != panels.size();
    panels.swap (now);
    if (changed)
        repaint();
}

void PyprocCanvas::toImage (const pyproc::PlotFrame& frame, Image& image)
{
    const int width = (int) frame.width;
    const int height = (int) frame.height;
    if (frame.rgba.size() != (size_t) width * (size_t) height * 4)
        return;
    if (! image.isValid() || image.getWidth() != width || image.getHeight() != height)
        image = Image (Image::ARGB, width, height, false);
    Image::BitmapData pixels (image, Image::BitmapData::writeOnly);
    const uint8* in = frame.rgba.data();
    for (int y = 0; y < height; ++y)
    {
        for (int x = 0; x < width; ++x, in += 4)
        {
            PixelARGB pixel (in[3], in[0], in[1], in[2]);
            pixel.premultiply();
            *reinterpret_cast<PixelARGB*> (pixels.getPixelPointer (x, y)) = pixel;
        }
    }
}

void PyprocCanvas::paint (Graphics& g)
{
    g.fillAll (Colour (0xff1e1e1e));
    if (panels.empty())
    {
        g.setColour (Colours::lightgrey);
        g.setFont (16.0f);
        g.drawFittedText ("no script runs: choose one in the pyproc editor", getLocalBounds().reduced (20), Justification::centred, 3);
        return;
    }
    // One panel per stream, stacked, each as wide as the tab.
    const int count = (int) panels.size();
    const int panelHeight = getHeight() / count;
    int top = 0;
    for (const auto& [id, panel] : panels)
    {
        paintPanel (g, panel, Rectangle<int> (0, top, getWidth(), panelHeight).reduced (6));
        top += panelHeight;
    }
}

void PyprocCanvas::paintPanel (Graphics& g, const Panel& panel, Rectangle<int> area) const
{
    g.setColour (Colours::white);
    g.setFont (15.0f);
    g.drawText (panel.label, area.removeFromTop (20), Justification::centredLeft, true);

    String message;
    if (! panel.running)
        message = "the script is not running on this stream: the editor's status line says why";
    else if (panel.state == pyproc::PlotState::NoVisualizer)
        message = "this script has no PyVisualizer";
    else if (panel.state == pyproc::PlotState::Off || panel.state == pyproc::PlotState::Starting)
        message = "starting the script's PyVisualizer...";
    else if (panel.state == pyproc::PlotState::Drawing && ! panel.image.isValid())
        message = "waiting for the script to publish (self.processor.publish) while acquiring";

    const bool failed = panel.state == pyproc::PlotState::Failed;
    Rectangle<int> errorArea;
    if (failed)
        errorArea = area.removeFromBottom (panel.image.isValid() ? jmin (140, area.getHeight() / 3) : area.getHeight());

    if (panel.image.isValid())
    {
        g.setOpacity (failed ? 0.4f : 1.0f);
        g.drawImageWithin (panel.image, area.getX(), area.getY(), area.getWidth(), area.getHeight(), RectanglePlacement::centred);
        g.setOpacity (1.0f);
    }
    else if (message.isNotEmpty())
    {
        g.setColour (Colours::lightgrey);
        g.setFont (16.0f);
        g.drawFittedText (message, area.reduced (10), Justification::centred, 3);
    }
    if (failed)
    {
        g.setColour (Colour (0xffff7070));
        g.setFont (FontOptions (Font::getDefaultMonospacedFontName(), 13.0f, Font::plain));
        g.drawFittedText ("PyVisualizer failed (processing goes on):\n" + panel.error, errorArea.reduced (6), Justification::topLeft, 40);
    }
}
