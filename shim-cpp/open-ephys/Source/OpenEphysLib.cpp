// What the GUI asks a plugin library when it loads it.
#include <PluginInfo.h>

#include "PyprocProcessor.h"

#ifdef _WIN32
#include <Windows.h>
#define EXPORT __declspec (dllexport)
#else
#define EXPORT __attribute__ ((visibility ("default")))
#endif

extern "C" EXPORT void getLibInfo (Plugin::LibraryInfo* info)
{
    info->apiVersion = PLUGIN_API_VER;
    info->name = "pyproc";
    info->libVersion = "0.1.0";
    info->numPlugins = 1;
}

extern "C" EXPORT int getPluginInfo (int index, Plugin::PluginInfo* info)
{
    if (index != 0)
        return -1;
    info->type = Plugin::PROCESSOR;
    info->processor.name = "pyproc Python";
    info->processor.type = Plugin::Processor::FILTER;
    info->processor.creator = &(Plugin::createProcessor<PyprocProcessor>);
    return 0;
}
