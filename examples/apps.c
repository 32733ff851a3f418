/* apps.c: an MCP Apps server on mcp.c. The tool `show_weather` answers with text and
 * structured content for any client; hosts that support MCP Apps (io.modelcontextprotocol/ui)
 * also render the view ui://weather/view.html beside the result, an HTML page that talks to
 * the host over postMessage. Icons and _meta show what clients may display.
 *   ./build.sh examples/apps.c && build/apps serve      (or: stdio, call show_weather '{"city":"Oslo"}') */
#include "../mcp.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The last city asked for, as the resource weather://last; a client subscribed to it over
 * stdio hears of each change. */
static pthread_mutex_t last_mu = PTHREAD_MUTEX_INITIALIZER;
static char last_city[128] = "none yet";

static int last(mcp_call *c) {
    pthread_mutex_lock(&last_mu);
    int r = mcp_text(c, "%s", last_city);
    pthread_mutex_unlock(&last_mu);
    return r;
}

/* A small view: it waits for the tool result the host passes in and shows it. */
static const char view_html[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Weather</title></head>"
    "<body><h1 id=\"city\">Weather</h1><p id=\"summary\">Waiting for the tool result...</p><script>"
    "window.addEventListener('message', (e) => {"
    " const m = e.data; if (!m || m.jsonrpc !== '2.0') return;"
    " if (m.method === 'ui/notifications/tool-result') {"
    "  const s = (m.params && m.params.structuredContent) || {};"
    "  document.getElementById('city').textContent = s.city || 'Weather';"
    "  document.getElementById('summary').textContent = s.summary || ''; } });"
    "window.parent.postMessage({jsonrpc:'2.0', id:1, method:'ui/initialize', params:{appInfo:{name:'weather-view',version:'1.0.0'},"
    " appCapabilities:{}, protocolVersion:'2026-01-26'}}, '*');"
    "</script></body></html>";

static int view(mcp_call *c) { return mcp_textn(c, view_html, sizeof view_html - 1); }

static int show_weather(mcp_call *c) {
    const char *city = mcp_str(c, "city");
    char json[512];
    snprintf(json, sizeof json, "{\"city\":\"%.100s\",\"summary\":\"Sunny, 21 C\",\"tempC\":21}", city);
    mcp_structured(c, json);
    mcp_result_meta(c, "{\"com.example/source\":\"demo\"}");
    pthread_mutex_lock(&last_mu);
    snprintf(last_city, sizeof last_city, "%s", city);
    pthread_mutex_unlock(&last_mu);
    mcp_resource_updated(mcp_data(c), "weather://last");
    return mcp_text(c, "%s: sunny, 21 C", city);
}

int main(int argc, char **argv) {
    mcp_server *s = mcp_server_new("apps", "1.0.0");
    mcp_server_icon(s, "https://example.com/weather-48.png", "image/png", "48x48");
    mcp_tool_def *t = mcp_tool(s, "show_weather", "Show the weather for a city", "city:string", show_weather);
    mcp_tool_output_schema(t, "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
                              "\"summary\":{\"type\":\"string\"},\"tempC\":{\"type\":\"number\"}},\"required\":[\"city\"]}");
    mcp_tool_icon(t, "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=", "image/svg+xml", "any");
    mcp_tool_app(t, "ui://weather/view.html", NULL);
    mcp_tool_data(t, s);
    mcp_resource(s, "weather://last", "last-city", "The last city asked for", "text/plain", last);
    mcp_resource_def *r = mcp_app(s, "ui://weather/view.html", "weather-view", "The weather view", view);
    mcp_resource_meta(r, "{\"ui\":{\"prefersBorder\":true,\"csp\":{\"connectDomains\":[]}}}");
    return mcp_main(s, argc, argv);
}
