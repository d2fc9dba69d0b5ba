// The pyproc plugin: Open Ephys Python Processor scripts, each in its own sandboxed
// interpreter (see shim-cpp/open-ephys/README.md).
#pragma once

#include <ProcessorHeaders.h>

#include <pyproc/processor.h>

#include <array>
#include <atomic>
#include <map>
#include <memory>

class PyprocProcessor : public GenericProcessor, private Timer, private AsyncUpdater
{
public:
    PyprocProcessor();
    ~PyprocProcessor() override;

    void registerParameters() override;
    AudioProcessorEditor* createEditor() override;

    void updateSettings() override;
    void parameterValueChanged (Parameter* param) override;
    void process (AudioBuffer<float>& buffer) override;

    bool startAcquisition() override;
    bool stopAcquisition() override;
    void startRecording() override;
    void stopRecording() override;

    /** Loads the script again (fresh interpreters, swapped in between blocks). */
    void reloadScript();

    /** One line for the editor: what runs, or what went wrong. */
    String getStatusLine() const;
    /** The last error in full (message and traceback), or empty. */
    String getLastErrorDetails() const;

    /** A stream the script runs on, for the plots tab: its name and its processor (null
        when loading failed). Message thread; valid until the next load. */
    struct PlotSource
    {
        uint16 streamId;
        String label;
        pyproc::Processor* processor;
    };
    std::vector<PlotSource> getPlotSources();

private:
    void handleTTLEvent (TTLEventPtr event) override;
    void handleSpike (SpikePtr spike) override;

    /** Logs errors the real-time thread recorded (it never logs itself). */
    void timerCallback() override;
    /** Loads what a parameter change asked for, once the change (and, when a chain is
        being restored, every other saved parameter) is in place. */
    void handleAsyncUpdate() override;

    /** (Re)creates interpreters for the streams the settings select. */
    void loadProcessors();
    bool runsStream (uint16 streamId) const;
    void noteError (const String& what);
    // The script's printed lines and pyproc's notes, into the GUI's log.
    static void logOutput (pyproc::OutputKind kind, std::string_view instance, std::string_view line);
    // The engine all instances share (loaded by the first that needs it).
    static std::shared_ptr<pyproc::Engine> sharedEngine();
    // The stream as the GUI names it (source and stream), for log lines.
    String streamLabel (uint16 id);
    /** Logs the accesses the scripts were refused since the last call (message thread;
        reading them never waits for a block). */
    void logDenials();
    /** Logs, one line per stream, the blocks that passed through unchanged since the last
        call, by reason (nothing when none did). */
    void logPassThroughs();
    /** Calls `call` on every loaded processor (control thread); failures go to the log and
        the status line. True when every call succeeded. */
    template <typename Call>
    bool callEach (Call call);

    static constexpr int kSpikePre = 8;
    static constexpr int kSpikeSamples = 40;
    static constexpr size_t kMaxPendingSpikes = 256;
    /** A spike being cut from the processed data: `filled` values of its waveform so far. */
    struct PendingSpike
    {
        int64 sampleNumber = 0;
        uint32 channel = 0;
        uint16 sortedId = 0;
        int filled = 0;
        std::array<float, 40> waveform {};
    };

    struct StreamProcessor
    {
        std::unique_ptr<pyproc::Processor> processor;
        EventChannel* outputChannel = nullptr;
        int firstChannel = 0;
        int numChannels = 0;
        float sampleRate = 0.0f;
        uint64 lastErrorSeen = 0;
        /** Spikes from add_python_spike already counted in the log. */
        uint64 spikesReported = 0;
        /** This acquisition: spikes not sent (a channel the stream lacks, or too many
            waiting for their waveform's end). */
        int64 spikesNotSent = 0;
        uint64 outsideAcquisitionReported = 0;
        /** Refused accesses already in the log: the count, and the kept ones shown. */
        uint64 denialsReported = 0;
        size_t denialLinesReported = 0;
        /** Blocks passed through already in the log, by reason. */
        pyproc::PassThroughCounts passThroughsReported {};
        /** The processor has been restarting or switched off since the status line last
            said "running": when it runs again, the line goes back to "running". */
        bool wasDown = false;
        std::vector<float*> channelPointers;
        /** Time spent in the script per block this acquisition, logged when it stops. */
        int64 blocks = 0;
        int64 totalTicks = 0;
        int64 maxTicks = 0;
        /** The longest time between the starts of two blocks this acquisition. */
        int64 lastStart = 0;
        int64 maxGapTicks = 0;
        /** Events the script placed after the current block, waiting for theirs (room for
            kMaxWaitingEvents, reserved at load: no allocation on the audio thread). */
        std::vector<pyproc::TtlEvent> waiting;
        /** This acquisition: events placed before their block (sent at its first sample),
            and events dropped because too many waited or acquisition stopped first. */
        int64 movedToBlockStart = 0;
        int64 waitingDropped = 0;
        /** The plugin's spike channels for this stream, one per continuous channel. */
        std::vector<const SpikeChannel*> spikeChannels;
        /** The last kSpikePre processed samples of each channel (channel c at
            c * kSpikePre), for waveforms that start in the block before. */
        std::vector<float> tail;
        /** Spikes whose waveform needs samples of a later block (reserved at load). */
        std::vector<PendingSpike> pendingSpikes;
    };
    static constexpr size_t kMaxWaitingEvents = 1024;
    /** Sends the block's spikes (and those waiting for this block's samples) on the
        stream's spike channels, cutting waveforms from the processed data. */
    void sendSpikes (StreamProcessor& entry, const pyproc::Spikes& spikes, int64 first, int numSamples);
    void fillWaveform (StreamProcessor& entry, PendingSpike& spike, int64 first, int numSamples);
    void sendSpike (StreamProcessor& entry, const PendingSpike& spike);
    /** Each stream's spike channels (kept by the GUI across updates, made once). */
    std::map<uint16, std::vector<const SpikeChannel*>> spikeOutputs;
    /** The block deadline the `deadline` parameter asks for now (0: not known yet). */
    int wantedBlockDeadlineMs() const;
    /** Gives every interpreter the wanted block deadline if it changed. */
    void applyBlockDeadline();
    /** The last block's length in ms (audio thread writes, message thread reads). */
    std::atomic<double> blockPeriodMs { 0.0 };
    /** The scripts' time and the audio callbacks since the timer last looked (audio
        thread adds, message thread takes). */
    std::atomic<int64> windowTicks { 0 };
    std::atomic<int64> windowBlocks { 0 };
    /** The message thread's view of the last two seconds: says when the scripts take
        more than the block period can give them, and shows the cost in the editor. */
    void watchCost();
    static constexpr size_t kCostSteps = 10;
    std::array<int64, kCostSteps> costTicks {};
    std::array<int64, kCostSteps> costBlocks {};
    size_t costAt = 0;
    bool behind = false;
    String costLine;
    int appliedBlockDeadlineMs = 0;
    /** Sends `event` in the block [first, first + numSamples) of `entry`'s stream. */
    void emit (StreamProcessor& entry, const pyproc::TtlEvent& e, int64 first, int numSamples);

    std::shared_ptr<pyproc::Engine> engine;
    std::map<uint16, StreamProcessor> streams;
    String loadedScript;
    /** The `permissions` text the running interpreters were granted. */
    String loadedPermissions;
    int loadedShards = 0;
    /** The recording folder the interpreters may write in (the GUI's parent folder at load). */
    String grantedRecordingRoot;
    String statusLine;
    String lastErrorDetails;
    std::atomic<int64> droppedEvents { 0 };
    mutable CriticalSection statusLock;

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (PyprocProcessor);
};
