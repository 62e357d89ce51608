// GovHub's GraphiQL page: GraphiQL 3 with the explorer plugin, every file served by the
// hub (no CDN, no inline script). Queries go to the page's own address (/graphql);
// subscriptions to the same address over WebSocket. A token goes in the Headers tab as
// {"Authorization": "Bearer …"}; it is not kept in the browser's storage.
(function () {
  "use strict";

  var DEFAULT_QUERY = [
    "# GovHub GraphQL API. Run with Ctrl-Enter; the Docs button lists the schema.",
    "# Sign in with the login mutation and put the token in the Headers tab:",
    '#   {"Authorization": "Bearer <accessToken>"}',
    "",
    "query Divisions {",
    '  division(code: "140700000000") {',
    "    code",
    "    name",
    "    level",
    "  }",
    "}",
    "",
  ].join("\n");

  var parameters = new URLSearchParams(window.location.search);
  var fetchURL = window.location.origin + window.location.pathname;

  function webSocketURL(url) {
    var parsed = new URL(url);
    parsed.protocol = parsed.protocol === "https:" ? "wss:" : "ws:";
    parsed.hash = "";
    return parsed.toString();
  }

  function updateURL(name, value) {
    if (value) {
      parameters.set(name, value);
    } else {
      parameters.delete(name);
    }
    var search = parameters.toString();
    history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  var fetcher = GraphiQL.createFetcher({
    url: fetchURL,
    subscriptionUrl: webSocketURL(fetchURL),
  });

  function GovHubGraphiQL() {
    var query = React.useState(parameters.get("query") || DEFAULT_QUERY);
    var variables = React.useState(parameters.get("variables") || undefined);
    var explorer = React.useMemo(function () {
      return GraphiQLPluginExplorer.explorerPlugin();
    }, []);
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      query: query[0],
      variables: variables[0],
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
      onEditQuery: function (text) {
        query[1](text);
        updateURL("query", text);
      },
      onEditVariables: function (text) {
        variables[1](text);
        updateURL("variables", text);
      },
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GovHubGraphiQL),
  );
})();
