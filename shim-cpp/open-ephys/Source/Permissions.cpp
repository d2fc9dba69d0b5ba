#include "Permissions.h"

namespace
{
const char* const kFlags = "--allow-read PATH[::GUEST_PATH], --allow-write PATH[::GUEST_PATH], "
                           "--allow-net HOST:PORT[::HOST:PORT], --allow-listen PORT, --no-script-folder";

/** Splits on white space; quotes group (and are removed). False on an unclosed quote. */
bool tokenize (const String& text, StringArray& tokens, String& error)
{
    String token;
    bool inToken = false;
    juce_wchar quote = 0;
    for (auto p = text.getCharPointer(); ! p.isEmpty(); ++p)
    {
        const juce_wchar c = *p;
        if (quote != 0)
        {
            if (c == quote)
                quote = 0;
            else
                token << String::charToString (c);
        }
        else if (c == '"' || c == '\'')
        {
            quote = c;
            inToken = true;
        }
        else if (CharacterFunctions::isWhitespace (c))
        {
            if (inToken)
                tokens.add (token);
            token.clear();
            inToken = false;
        }
        else
        {
            token << String::charToString (c);
            inToken = true;
        }
    }
    if (quote != 0)
    {
        error = String ("permissions: a quote (") + String::charToString (quote) + ") is not closed";
        return false;
    }
    if (inToken)
        tokens.add (token);
    return true;
}
} // namespace

bool parsePermissions (const String& text, pyproc::Options& options, String& error)
{
    StringArray tokens;
    if (! tokenize (text, tokens, error))
        return false;

    pyproc::Options parsed = options;
    parsed.script_folder = true;
    parsed.allow_read.clear();
    parsed.allow_write.clear();
    parsed.allow_net.clear();
    parsed.allow_listen.clear();

    for (int i = 0; i < tokens.size(); ++i)
    {
        String flag = tokens[i];
        String value;
        const bool inlineValue = flag.startsWith ("--") && flag.contains ("=");
        if (inlineValue)
        {
            value = flag.fromFirstOccurrenceOf ("=", false, false);
            flag = flag.upToFirstOccurrenceOf ("=", false, false);
        }
        if (flag == "--no-script-folder" && ! inlineValue)
        {
            parsed.script_folder = false;
            continue;
        }
        if (flag != "--allow-read" && flag != "--allow-write" && flag != "--allow-net" && flag != "--allow-listen")
        {
            error = "permissions: unknown flag " + tokens[i].quoted() + ": write " + kFlags;
            return false;
        }
        if (! inlineValue)
        {
            if (i + 1 == tokens.size() || tokens[i + 1].startsWith ("--"))
            {
                error = "permissions: " + flag + " needs a value: write " + kFlags;
                return false;
            }
            value = tokens[++i];
        }
        if (flag == "--allow-read")
            parsed.allow_read.push_back (value.toStdString());
        else if (flag == "--allow-write")
            parsed.allow_write.push_back (value.toStdString());
        else if (flag == "--allow-net")
            parsed.allow_net.push_back (value.toStdString());
        else
        {
            const bool digits = value.isNotEmpty() && value.containsOnly ("0123456789") && value.length() <= 5;
            if (! digits || value.getIntValue() > 65535)
            {
                error = "permissions: --allow-listen " + value + ": " + value.quoted() + " is not a port number (0-65535)";
                return false;
            }
            parsed.allow_listen.push_back ((std::uint16_t) value.getIntValue());
        }
    }

    // The values themselves (paths, HOST:PORT), checked by pyproc as `pyproc run` checks them.
    try
    {
        pyproc::check_grants (parsed);
    }
    catch (const pyproc::Error& e)
    {
        error = String ("permissions: ") + e.what();
        return false;
    }
    options = std::move (parsed);
    return true;
}
