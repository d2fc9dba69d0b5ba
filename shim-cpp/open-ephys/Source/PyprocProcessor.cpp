#include "PyprocProcessor.h"

#include "PyprocEditor.h"
#include "Permissions.h"

#include <mutex>

namespace
{
// TTL words in the GUI are 64 bits: lines 64-255, which scripts may use, have no bit.
constexpr int kMaxTtlLine = 63;
// How often the message thread looks for errors the real-time thread recorded.
constexpr int kErrorPollMs = 200;

String firstLine (const String& text)
{
    return text.upToFirstOccurrenceOf ("\n", false, false);
}

// "12 (deadline exceeded 1, restarting 11)": the blocks counted in `now` but not in `was`,
// by reason; empty when there are none.
String passThroughSummary (const pyproc::PassThroughCounts& now, const pyproc::PassThroughCounts& was)
{
    const std::pair<const char*, uint64> reasons[] = {
        { "script error", now.script_error - was.script_error },
        { "deadline exceeded", now.deadline_exceeded - was.deadline_exceeded },
        { "interpreter stopped", now.instance_died - was.instance_died },
        { "restarting", now.restarting - was.restarting },
        { "switched off", now.disabled - was.disabled },
        { "bad block", now.bad_block - was.bad_block },
        { "other failure", now.failed - was.failed },
    };
    uint64 total = 0;
    StringArray parts;
    for (const auto& [reason, count] : reasons)
    {
        total += count;
        if (count > 0)
            parts.add (String (reason) + " " + String ((int64) count));
    }
    return total == 0 ? String() : String ((int64) total) + " (" + parts.joinIntoString (", ") + ")";
}
} // namespace

PyprocProcessor::PyprocProcessor() : GenericProcessor ("pyproc Python")
{
    // The message thread reports errors even when no editor exists (--headless).
    startTimer (kErrorPollMs);
}

PyprocProcessor::~PyprocProcessor()
{
    stopTimer();
    cancelPendingUpdate();
}

void PyprocProcessor::registerParameters()
{
    addPathParameter (Parameter::PROCESSOR_SCOPE, "script", "Script", "The PyProcessor script to run", File(), { "*.py" }, false, false);
    addSelectedStreamParameter (Parameter::PROCESSOR_SCOPE, "stream", "Stream", "The stream the script processes", {}, 0, true);
    addBooleanParameter (Parameter::PROCESSOR_SCOPE, "all_streams", "Every stream", "Run one isolated interpreter per stream instead of one for the selected stream", false, true);
    // Changed like the script: outside acquisition, re-creating the interpreters.
    addStringParameter (Parameter::PROCESSOR_SCOPE, "permissions", "Permissions",
                        "What the script may reach besides its data, as pyproc run's flags: --allow-read PATH[::GUEST_PATH] "
                        "--allow-write PATH[::GUEST_PATH] --allow-net HOST:PORT[::HOST:PORT] --allow-listen PORT --no-script-folder. "
                        "Empty: the script's own folder, readable, and nothing else",
                        String(), true);
    addIntParameter (Parameter::PROCESSOR_SCOPE, "shards", "Shards",
                     "Interpreters per stream for a script whose PyProcessor declares channel_independent = True: each runs "
                     "a contiguous group of the channels, in parallel. 0: one per core",
                     0, 0, 64, true);
    // Changed at any time: it applies from the next block on.
    addIntParameter (Parameter::PROCESSOR_SCOPE, "deadline", "Deadline ms",
                     "How long the script's process() and event handlers may hold a block before pyproc stops them, passes the "
                     "block through and replaces the interpreter. 0: two block periods of the running acquisition (at least "
                     "20 ms, at most 1 s). Start-up and the other callbacks keep their own deadlines (60 s, 1 s)",
                     0, 0, 10000, true);
}

AudioProcessorEditor* PyprocProcessor::createEditor()
{
    editor = std::make_unique<PyprocEditor> (this);
    return editor.get();
}

bool PyprocProcessor::runsStream (uint16 streamId) const
{
    if ((bool) getParameter ("all_streams")->getValue())
        return true;
    const String selected = getParameter ("stream")->getValueAsString();
    for (auto* stream : dataStreams)
        if (stream->getStreamId() == streamId)
            return stream->getKey() == selected || (selected.isEmpty() && stream == dataStreams.getFirst());
    return false;
}

void PyprocProcessor::updateSettings()
{
    for (auto* stream : dataStreams)
    {
        EventChannel::Settings settings { EventChannel::Type::TTL,
                                          "Python Processor Output",
                                          "TTL events sent by the script with add_python_event",
                                          "pyproc.events",
                                          getDataStream (stream->getStreamId()) };
        eventChannels.add (new EventChannel (settings));
        eventChannels.getLast()->addProcessor (this);
    }
    // One single-electrode spike channel per continuous channel, for add_python_spike. The
    // GUI keeps a processor's own spike channels across updates: make only missing ones.
    spikeOutputs.clear();
    for (auto* stream : dataStreams)
    {
        auto& outputs = spikeOutputs[stream->getStreamId()];
        for (auto* channel : stream->getContinuousChannels())
        {
            const String name = "pyproc " + channel->getName();
            SpikeChannel* found = nullptr;
            for (auto* existing : spikeChannels)
                if (existing->isLocal() && existing->getIdentifier() == "pyproc.spikes" && existing->getName() == name
                    && existing->getStreamId() == stream->getStreamId())
                    found = existing;
            if (found == nullptr)
            {
                SpikeChannel::Settings settings { SpikeChannel::SINGLE, name, "Spikes sent by the script with add_python_spike",
                                                  "pyproc.spikes", { channel->getLocalIndex() } };
                spikeChannels.add (new SpikeChannel (settings));
                found = spikeChannels.getLast();
                found->addProcessor (this);
                found->setDataStream (getDataStream (stream->getStreamId()), true);
            }
            outputs.push_back (found);
        }
    }
    cancelPendingUpdate(); // loading now, with every parameter as it is
    loadProcessors();
}

void PyprocProcessor::parameterValueChanged (Parameter* param)
{
    const String name = param->getName();
    // Not at once: a saved chain restores its parameters one by one, each announced here,
    // and the script must not start before its permissions are restored too.
    if (name == "script" || name == "stream" || name == "all_streams" || name == "permissions" || name == "shards")
        triggerAsyncUpdate();
    else if (name == "deadline")
        applyBlockDeadline();
}

void PyprocProcessor::handleAsyncUpdate()
{
    // These parameters change only outside acquisition, and startAcquisition runs a
    // pending load first: the map of streams never changes under the audio thread.
    loadProcessors();
}

void PyprocProcessor::logOutput (pyproc::OutputKind kind, std::string_view instance, std::string_view line)
{
    // On pyproc's output thread; the GUI's logger takes its own lock. `instance` is the
    // label given at load: this node's id and the stream.
    const String who = String::fromUTF8 (instance.data(), (int) instance.size());
    const String text = String::fromUTF8 (line.data(), (int) line.size());
    switch (kind)
    {
        case pyproc::OutputKind::Stderr:
            LOGE ("pyproc [", who, "] ", text);
            break;
        case pyproc::OutputKind::Note:
            LOGC ("pyproc: [", who, "] ", text);
            break;
        default:
            LOGC ("pyproc [", who, "] ", text);
    }
}

std::shared_ptr<pyproc::Engine> PyprocProcessor::sharedEngine()
{
    // One engine for every instance in the GUI, loaded once. Only when the interpreter is
    // not installed yet does loading take minutes: only then is it worth a line in the log.
    static std::mutex mutex;
    static std::weak_ptr<pyproc::Engine> shared;
    const std::lock_guard<std::mutex> lock (mutex);
    if (auto engine = shared.lock())
        return engine;
    std::shared_ptr<pyproc::Engine> engine = pyproc::Engine::if_prepared();
    if (! engine)
    {
        LOGC ("pyproc: installing the interpreter for this user (fetched and compiled once, one to two minutes)");
        engine = std::make_shared<pyproc::Engine>();
    }
    shared = engine;
    return engine;
}

String PyprocProcessor::streamLabel (uint16 id)
{
    // The name a user sees in the GUI (source and stream), not the internal number.
    for (auto* stream : dataStreams)
        if (stream->getStreamId() == id)
            return stream->getKey();
    return String (id);
}

std::vector<PyprocProcessor::PlotSource> PyprocProcessor::getPlotSources()
{
    std::vector<PlotSource> sources;
    for (auto& [id, entry] : streams)
        sources.push_back ({ id, streamLabel (id), entry.processor.get() });
    return sources;
}

void PyprocProcessor::noteError (const String& what)
{
    LOGE ("pyproc: ", what);
    const ScopedLock lock (statusLock);
    statusLine = "error: " + firstLine (what);
    lastErrorDetails = what;
}

template <typename Call>
bool PyprocProcessor::callEach (Call call)
{
    bool allOk = true;
    for (auto& [id, entry] : streams)
    {
        if (entry.processor && call (*entry.processor) != pyproc::Status::Ok)
        {
            allOk = false;
            const pyproc::ErrorReport report = entry.processor->last_error();
            entry.lastErrorSeen = report.sequence; // logged here: timerCallback need not again
            noteError (String (std::string (report.message)));
        }
    }
    return allOk;
}

void PyprocProcessor::loadProcessors()
{
    String script = getParameter ("script")->getValueAsString();
    if (script == "None")
        script = String();

    // Keep the interpreters whose script and stream are unchanged; replace the rest.
    std::map<uint16, StreamProcessor> previous;
    previous.swap (streams);

    {
        const ScopedLock lock (statusLock);
        statusLine = script.isEmpty() ? "no script: choose one" : "running " + File (script).getFileName();
        lastErrorDetails = String();
    }
    const String permissions = getParameter ("permissions")->getValueAsString();
    const int shards = (int) getParameter ("shards")->getValue();
    pyproc::Options granted;
    String permissionsError;
    if (! parsePermissions (permissions, granted, permissionsError))
    {
        // Nothing runs with grants other than the ones asked for: the stream passes through.
        noteError (permissionsError);
        return;
    }
    if (script.isEmpty())
        return;
    if (! File (script).existsAsFile())
    {
        noteError ("the script " + script + " does not exist");
        return;
    }

    try
    {
        if (! engine)
            engine = sharedEngine();
    }
    catch (const pyproc::Error& e)
    {
        noteError (String ("cannot start the interpreter: ") + e.what());
        return;
    }

    const String recordingRoot = CoreServices::getRecordingParentDirectory().getFullPathName();
    grantedRecordingRoot = recordingRoot;
    for (auto* stream : dataStreams)
    {
        const uint16 id = stream->getStreamId();
        if (! runsStream (id) || stream->getChannelCount() == 0)
            continue;

        StreamProcessor entry;
        entry.numChannels = stream->getChannelCount();
        entry.firstChannel = stream->getContinuousChannels()[0]->getGlobalIndex();
        entry.sampleRate = stream->getSampleRate();
        entry.channelPointers.assign ((size_t) entry.numChannels, nullptr);
        entry.spikeChannels = spikeOutputs[id];
        entry.tail.assign ((size_t) entry.numChannels * kSpikePre, 0.0f);
        entry.pendingSpikes.reserve (kMaxPendingSpikes);
        for (auto* channel : eventChannels)
            if (channel->getStreamId() == id)
                entry.outputChannel = channel;

        auto old = previous.find (id);
        if (old != previous.end() && old->second.processor && script == loadedScript && permissions == loadedPermissions && shards == loadedShards
            && old->second.numChannels == entry.numChannels && old->second.sampleRate == entry.sampleRate)
        {
            entry.processor = std::move (old->second.processor);
            entry.lastErrorSeen = old->second.lastErrorSeen;
            entry.spikesReported = old->second.spikesReported;
            entry.denialsReported = old->second.denialsReported;
            entry.denialLinesReported = old->second.denialLinesReported;
            entry.passThroughsReported = old->second.passThroughsReported;
            entry.wasDown = old->second.wasDown;
        }
        else
        {
            pyproc::Options options = granted;
            options.label = String (getNodeId()).toStdString() + "/" + stream->getKey().toStdString();
            options.recording_root = recordingRoot.toStdString();
            options.shards = (std::uint32_t) shards;
            options.block_deadline_ms = (std::uint32_t) jmax (0, appliedBlockDeadlineMs);
            try
            {
                entry.processor = std::make_unique<pyproc::Processor> (*engine, script.toStdString(), entry.numChannels, entry.sampleRate, options, logOutput);
                LOGC ("pyproc: ", File (script).getFileName(), " loaded for stream ", stream->getKey(), " (", entry.numChannels, " channels, ",
                      entry.processor->num_shards(), entry.processor->num_shards() == 1 ? " interpreter" : " interpreters in parallel", "), permissions: ",
                      permissions.isEmpty() ? String ("its own folder, readable (the default)") : permissions);
            }
            catch (const pyproc::Error& e)
            {
                // No dialog: the chain keeps loading; the stream passes through unchanged.
                noteError (String (e.what()));
            }
        }
        streams[id] = std::move (entry);
    }
    loadedScript = script;
    loadedPermissions = permissions;
    loadedShards = shards;
    logDenials(); // what import and __init__ were refused
}

void PyprocProcessor::logDenials()
{
    for (auto& [id, entry] : streams)
    {
        if (! entry.processor)
            continue;
        const pyproc::DenialReport denials = entry.processor->denials();
        if (denials.count == entry.denialsReported)
            continue;
        const String script = File (loadedScript).getFileName();
        for (size_t i = entry.denialLinesReported; i < denials.kept.size(); ++i)
            LOGC ("pyproc: ", script, " (stream ", streamLabel (id), ") denied: ", String (std::string (denials.kept[i])));
        entry.denialLinesReported = denials.kept.size();
        LOGC ("pyproc: ", script, " (stream ", streamLabel (id), "): ", (int64) denials.count,
              " accesses denied so far (each a PermissionError in the script); to allow them, add the flags above to Permissions");
        entry.denialsReported = denials.count;
    }
}

void PyprocProcessor::logPassThroughs()
{
    for (auto& [id, entry] : streams)
    {
        if (! entry.processor)
            continue;
        const pyproc::PassThroughCounts now = entry.processor->pass_through_counts();
        const String summary = passThroughSummary (now, entry.passThroughsReported);
        if (summary.isNotEmpty())
            LOGC ("pyproc: stream ", streamLabel (id), ": blocks passed through unchanged: ", summary);
        entry.passThroughsReported = now;
    }
}

void PyprocProcessor::reloadScript()
{
    bool anyMissing = streams.empty();
    for (auto& [id, entry] : streams)
        anyMissing |= entry.processor == nullptr;
    // A fresh interpreter, swapped in between two blocks; the old one runs meanwhile.
    const bool allReloaded = callEach ([] (pyproc::Processor& p) { return p.reload(); });
    if (anyMissing && ! CoreServices::getAcquisitionStatus())
    {
        // Streams whose first load failed get a fresh try (the map changes: not while
        // the audio thread walks it).
        loadedScript = String();
        loadProcessors();
        return;
    }
    logDenials();
    if (allReloaded)
    {
        LOGC ("pyproc: reloaded ", File (loadedScript).getFileName());
        const ScopedLock lock (statusLock);
        statusLine = "running " + File (loadedScript).getFileName();
        lastErrorDetails = String();
    }
}

void PyprocProcessor::process (AudioBuffer<float>& buffer)
{
    checkForEvents (true);
    const int64 callbackStarted = Time::getHighResolutionTicks();
    // Time spent on control calls run between blocks (a slow stop_recording) is not the
    // script's cost per block: it is left out of what the editor and the log report.
    int64 controlTicks = 0;

    for (auto& [id, entry] : streams)
    {
        if (! entry.processor)
            continue;
        const int numSamples = (int) getNumSamplesInBlock (id);
        if (numSamples == 0)
            continue;
        const int64 first = getFirstSampleNumberForBlock (id);
        for (int c = 0; c < entry.numChannels; ++c)
            entry.channelPointers[(size_t) c] = buffer.getWritePointer (entry.firstChannel + c);

        // On failure the block is untouched and the error waits for timerCallback.
        blockPeriodMs.store (1000.0 * numSamples / entry.sampleRate, std::memory_order_relaxed);
        const int64 started = Time::getHighResolutionTicks();
        if (entry.lastStart != 0)
            entry.maxGapTicks = jmax (entry.maxGapTicks, started - entry.lastStart);
        entry.lastStart = started;
        const pyproc::Status status = entry.processor->process (entry.channelPointers.data(), entry.numChannels, numSamples, first);
        const int64 control = (int64) entry.processor->control_us() * Time::getHighResolutionTicksPerSecond() / 1000000;
        controlTicks += control;
        const int64 ticks = jmax ((int64) 0, Time::getHighResolutionTicks() - started - control);
        entry.blocks++;
        entry.totalTicks += ticks;
        entry.maxTicks = jmax (entry.maxTicks, ticks);
        // Events placed in an earlier block's answer for this one go out first, whatever
        // this block's status; the rest keep waiting, in place (no allocation).
        const int64 end = first + numSamples;
        size_t kept = 0;
        for (const pyproc::TtlEvent& e : entry.waiting)
        {
            if (e.sample_number < end)
                emit (entry, e, first, numSamples);
            else
                entry.waiting[kept++] = e;
        }
        entry.waiting.resize (kept);
        sendSpikes (entry, status == pyproc::Status::Ok ? entry.processor->spikes() : pyproc::Spikes (nullptr, 0), first, numSamples);
        if (status != pyproc::Status::Ok)
            continue;
        for (const pyproc::TtlEvent& e : entry.processor->events())
        {
            if (e.sample_number < end)
                emit (entry, e, first, numSamples);
            else if (entry.waiting.size() < kMaxWaitingEvents)
                entry.waiting.push_back (e);
            else
                entry.waitingDropped++;
        }
    }
    // For the editor's timer: what the scripts cost this audio callback, all streams.
    windowTicks.fetch_add (jmax ((int64) 0, Time::getHighResolutionTicks() - callbackStarted - controlTicks), std::memory_order_relaxed);
    windowBlocks.fetch_add (1, std::memory_order_relaxed);
}

void PyprocProcessor::watchCost()
{
    // The last two seconds, in the timer's steps.
    costTicks[costAt] = windowTicks.exchange (0, std::memory_order_relaxed);
    costBlocks[costAt] = windowBlocks.exchange (0, std::memory_order_relaxed);
    costAt = (costAt + 1) % kCostSteps;
    int64 ticks = 0, blocks = 0;
    for (size_t i = 0; i < kCostSteps; ++i)
    {
        ticks += costTicks[i];
        blocks += costBlocks[i];
    }
    const double period = blockPeriodMs.load (std::memory_order_relaxed);
    if (blocks == 0 || period <= 0.0)
    {
        costLine = String();
        return;
    }
    const double ms = ticks * 1000.0 / (double) Time::getHighResolutionTicksPerSecond() / (double) blocks;
    costLine = String (ms, 1) + " of " + String (period, 1) + " ms per block";
    // Behind from 90 % of the period (the rest of the chain needs its share too); caught up
    // again below 75 %, so that a script near the line does not flap.
    if (! behind && ms > 0.9 * period && blocks >= 5)
    {
        behind = true;
        LOGC ("pyproc: the script takes ", String (ms, 1), " ms of a ", String (period, 1),
              " ms block: the acquisition cannot keep up (make process() faster, or use shards for a channel-independent script)");
    }
    else if (behind && ms < 0.75 * period)
    {
        behind = false;
        LOGC ("pyproc: the script keeps up again (", String (ms, 1), " ms of a ", String (period, 1), " ms block)");
    }
}

void PyprocProcessor::sendSpikes (StreamProcessor& entry, const pyproc::Spikes& spikes, int64 first, int numSamples)
{
    // Spikes cut near the last block's end get the rest of their waveform from this one.
    size_t kept = 0;
    for (PendingSpike& pending : entry.pendingSpikes)
    {
        fillWaveform (entry, pending, first, numSamples);
        if (pending.filled == kSpikeSamples)
            sendSpike (entry, pending);
        else
            entry.pendingSpikes[kept++] = pending;
    }
    entry.pendingSpikes.resize (kept);
    for (const pyproc::Spike& s : spikes)
    {
        if (s.channel >= entry.spikeChannels.size())
        {
            entry.spikesNotSent++;
            continue;
        }
        PendingSpike spike;
        spike.sampleNumber = s.sample_number;
        spike.channel = s.channel;
        spike.sortedId = s.sorted_id;
        if (s.has_waveform)
        {
            std::copy (s.waveform.begin(), s.waveform.end(), spike.waveform.begin());
            spike.filled = kSpikeSamples;
        }
        else
        {
            fillWaveform (entry, spike, first, numSamples);
        }
        if (spike.filled == kSpikeSamples)
            sendSpike (entry, spike);
        else if (entry.pendingSpikes.size() < kMaxPendingSpikes)
            entry.pendingSpikes.push_back (spike);
        else
            entry.spikesNotSent++;
    }
    // The block's last samples, for waveforms that start here and peak in the next block.
    // Ascending: each old value is read before it is overwritten.
    const int64 end = first + numSamples;
    for (size_t c = 0; c < entry.channelPointers.size(); ++c)
    {
        float* tail = entry.tail.data() + c * kSpikePre;
        for (int k = 0; k < kSpikePre; ++k)
        {
            const int64 sample = end - kSpikePre + k;
            tail[k] = sample >= first ? entry.channelPointers[c][sample - first] : tail[k + numSamples];
        }
    }
}

void PyprocProcessor::fillWaveform (StreamProcessor& entry, PendingSpike& spike, int64 first, int numSamples)
{
    // The waveform runs from kSpikePre samples before the peak; what lies before the last
    // block's tail is gone (zeros), what lies after this block waits for the next.
    const float* data = entry.channelPointers[spike.channel];
    const float* tail = entry.tail.data() + (size_t) spike.channel * kSpikePre;
    for (; spike.filled < kSpikeSamples; ++spike.filled)
    {
        const int64 sample = spike.sampleNumber - kSpikePre + spike.filled;
        if (sample >= first + numSamples)
            return;
        if (sample >= first)
            spike.waveform[(size_t) spike.filled] = data[sample - first];
        else if (sample >= first - kSpikePre)
            spike.waveform[(size_t) spike.filled] = tail[sample - (first - kSpikePre)];
        else
            spike.waveform[(size_t) spike.filled] = 0.0f;
    }
}

void PyprocProcessor::sendSpike (StreamProcessor& entry, const PendingSpike& spike)
{
    // The GUI's spike objects are allocated, as its own Spike Detector's are.
    const SpikeChannel* channel = entry.spikeChannels[spike.channel];
    Spike::Buffer buffer (channel);
    buffer.set (0, spike.waveform.data(), kSpikeSamples);
    SpikePtr made = Spike::createSpike (channel, spike.sampleNumber, Array<float> { 0.0f }, buffer, spike.sortedId);
    if (made != nullptr)
        addSpike (made);
}

void PyprocProcessor::emit (StreamProcessor& entry, const pyproc::TtlEvent& e, int64 first, int numSamples)
{
    if (e.line > kMaxTtlLine || entry.outputChannel == nullptr)
    {
        droppedEvents++;
        return;
    }
    // An event placed before this block (in the past) goes out at its first sample.
    if (e.sample_number < first)
        entry.movedToBlockStart++;
    const int offset = (int) jlimit<int64> (0, numSamples - 1, e.sample_number - first);
    TTLEventPtr event = TTLEvent::createTTLEvent (entry.outputChannel, first + offset, e.line, e.state);
    addEvent (event, offset);
}

void PyprocProcessor::handleTTLEvent (TTLEventPtr event)
{
    const bool perStream = (bool) getParameter ("all_streams")->getValue();
    // The name's own UTF-8, viewed: no copy on the audio thread.
    const String name = event->getChannelInfo()->getName();
    const std::string_view channel (name.toRawUTF8(), name.getNumBytesAsUTF8());
    for (auto& [id, entry] : streams)
        if (entry.processor && (! perStream || id == event->getStreamId()))
            entry.processor->handle_ttl_event (event->getProcessorId(), channel, event->getSampleNumber(), event->getLine(), event->getState());
}

void PyprocProcessor::handleSpike (SpikePtr spike)
{
    const bool perStream = (bool) getParameter ("all_streams")->getValue();
    const SpikeChannel* info = spike->getChannelInfo();
    const String name = info->getName();
    const std::string_view electrode (name.toRawUTF8(), name.getNumBytesAsUTF8());
    for (auto& [id, entry] : streams)
        if (entry.processor && (! perStream || id == spike->getStreamId()))
            entry.processor->handle_spike (spike->getProcessorId(), electrode, spike->getSampleNumber(), spike->getSortedId(), spike->getDataPointer(), (int) info->getNumChannels(), (int) info->getTotalSamples());
}

bool PyprocProcessor::startAcquisition()
{
    handleUpdateNowIfNeeded();
    behind = false;
    costTicks.fill (0);
    costBlocks.fill (0);
    for (auto& [id, entry] : streams)
    {
        entry.blocks = entry.totalTicks = entry.maxTicks = entry.lastStart = entry.maxGapTicks = 0;
        entry.movedToBlockStart = entry.waitingDropped = entry.spikesNotSent = 0;
        entry.pendingSpikes.clear();
        entry.waiting.clear();
        entry.waiting.reserve (kMaxWaitingEvents);
    }
    callEach ([] (pyproc::Processor& p) { return p.start_acquisition(); });
    return true; // a failing script never stops acquisition: its blocks pass through
}

bool PyprocProcessor::stopAcquisition()
{
    const double msPerTick = 1000.0 / (double) Time::getHighResolutionTicksPerSecond();
    for (auto& [id, entry] : streams)
        if (entry.blocks > 0)
            LOGC ("pyproc: stream ", streamLabel (id), ": ", entry.blocks, " blocks, ", String (entry.totalTicks * msPerTick / (double) entry.blocks, 3),
                  " ms per block on average in the script (max ", String (entry.maxTicks * msPerTick, 3),
                  " ms; at most ", String (entry.maxGapTicks * msPerTick, 1), " ms between two blocks)");
    callEach ([] (pyproc::Processor& p) { return p.stop_acquisition(); });
    logPassThroughs();
    for (auto& [id, entry] : streams)
    {
        // Events still waiting for a block that will not come in this acquisition.
        entry.waitingDropped += (int64) entry.waiting.size();
        entry.waiting.clear();
        if (entry.movedToBlockStart > 0)
            LOGC ("pyproc: stream ", streamLabel (id), ": ", entry.movedToBlockStart,
                  " events placed before their block (sample_number in the past) went out at the block's first sample");
        if (entry.waitingDropped > 0)
            LOGC ("pyproc: stream ", streamLabel (id), ": ", entry.waitingDropped, " events placed in a later block were dropped (more than ",
                  (int) kMaxWaitingEvents, " waiting, or acquisition stopped first)");
    }
    for (auto& [id, entry] : streams)
    {
        // Spikes whose waveform still waited for samples: acquisition stopped first.
        entry.spikesNotSent += (int64) entry.pendingSpikes.size();
        entry.pendingSpikes.clear();
        const int64 notSent = entry.spikesNotSent + (entry.processor ? (int64) (entry.processor->spikes_dropped() - entry.spikesReported) : 0);
        if (notSent > 0)
            LOGC ("pyproc: stream ", streamLabel (id), ": ", notSent,
                  " spikes from add_python_spike were not sent (more than 1000 in a block, a channel the stream lacks, or acquisition stopped before their waveform's end)");
        if (entry.processor)
            entry.spikesReported = entry.processor->spikes_dropped();
        entry.spikesNotSent = 0;
    }
    for (auto& [id, entry] : streams)
        if (entry.processor && entry.processor->events_outside_acquisition() > entry.outsideAcquisitionReported)
        {
            LOGC ("pyproc: stream ", streamLabel (id), ": ", (int64) (entry.processor->events_outside_acquisition() - entry.outsideAcquisitionReported),
                  " events emitted outside acquisition (in __init__, stop_acquisition, or after the last block) were dropped, as the original plugin drops them");
            entry.outsideAcquisitionReported = entry.processor->events_outside_acquisition();
        }
    if (droppedEvents.load() > 0)
        LOGC ("pyproc: ", (int64) droppedEvents.exchange (0), " events on lines above ", kMaxTtlLine, " were dropped (the GUI's TTL words have 64 lines)");
    logDenials();
    return true;
}

void PyprocProcessor::startRecording()
{
    const File parent = CoreServices::getRecordingParentDirectory();
    File dir = parent.getChildFile (CoreServices::getRecordingDirectoryName());
    dir.createDirectory();
    if (parent.getFullPathName() != grantedRecordingRoot)
    {
        // pyproc::Processor::start_recording restarts the script to grant the new folder.
        LOGC ("pyproc: recordings now go to ", parent.getFullPathName(), ": the script restarts in an interpreter allowed to write there");
        grantedRecordingRoot = parent.getFullPathName();
    }
    const std::string path = dir.getFullPathName().toStdString();
    callEach ([&path] (pyproc::Processor& p) { return p.start_recording (path); });
}

void PyprocProcessor::stopRecording()
{
    callEach ([] (pyproc::Processor& p) { return p.stop_recording(); });
}

int PyprocProcessor::wantedBlockDeadlineMs() const
{
    const int set = (int) getParameter ("deadline")->getValue();
    if (set > 0)
        return set;
    // Two periods: room for a slow block now and then. Longer costs more than the blocks
    // themselves: in GUI 1.0.1 on PulseAudio, one callback of four periods (93 ms) stalled
    // the audio device for about 1.9 s (266 blocks in 10 s instead of 430), one of two
    // (40-46 ms) did not (431 blocks).
    const double period = blockPeriodMs.load (std::memory_order_relaxed);
    return period > 0.0 ? jlimit (20, 1000, roundToInt (2.0 * period)) : 0;
}

void PyprocProcessor::applyBlockDeadline()
{
    const int wanted = wantedBlockDeadlineMs();
    if (wanted == appliedBlockDeadlineMs)
        return;
    appliedBlockDeadlineMs = wanted;
    callEach ([wanted] (pyproc::Processor& p) { return p.set_block_deadline ((std::uint32_t) wanted); });
    const bool automatic = (int) getParameter ("deadline")->getValue() == 0;
    if (wanted > 0)
        LOGC ("pyproc: process() and the event handlers may hold a block ", wanted, " ms",
              automatic ? String (" (two periods of ") + String (blockPeriodMs.load(), 1) + " ms blocks)" : String());
}

void PyprocProcessor::timerCallback()
{
    // The block period is known once blocks flow; it changes only with the audio settings.
    applyBlockDeadline();
    watchCost();
    for (auto& [id, entry] : streams)
    {
        if (! entry.processor)
            continue;
        pyproc::ErrorReport report = entry.processor->last_error();
        if (report.sequence == entry.lastErrorSeen)
            continue;
        entry.lastErrorSeen = report.sequence;
        // The interpreter is being replaced: once it runs again the line says so, even if
        // the replacement was quicker than this timer.
        if (report.status == pyproc::Status::DeadlineExceeded || report.status == pyproc::Status::InstanceDied)
            entry.wasDown = true;
        // The message of a script's exception holds its traceback already (without the
        // final newline): only a message without it gets it appended.
        String details (std::string (report.message));
        const String traceback = String (std::string (report.traceback)).trimEnd();
        if (traceback.isNotEmpty() && ! details.contains (traceback))
            details << "\n" << traceback;
        noteError (details);
    }
    // A processor restarting or switched off says so; once one that was down runs again,
    // the line goes back to "running". A script error (its interpreter keeps running) stays
    // shown until a reload.
    const ScopedLock lock (statusLock);
    const String script = File (loadedScript).getFileName();
    for (auto& [id, entry] : streams)
    {
        if (! entry.processor)
            continue;
        const String status (std::string (entry.processor->status_text()));
        if (status != "running")
        {
            entry.wasDown = true;
            statusLine = status + ": " + script;
        }
        else if (entry.wasDown || ! statusLine.startsWith ("error"))
        {
            entry.wasDown = false;
            if (behind)
                statusLine = "cannot keep up: " + script + ", " + costLine;
            else
                statusLine = "running: " + script + (costLine.isEmpty() ? String() : ", " + costLine);
        }
    }
}

String PyprocProcessor::getStatusLine() const
{
    const ScopedLock lock (statusLock);
    return statusLine;
}

String PyprocProcessor::getLastErrorDetails() const
{
    const ScopedLock lock (statusLock);
    return lastErrorDetails;
}
