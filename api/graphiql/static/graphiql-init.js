// Starts GraphiQL on the registry's page. A file of its own, not an inline script, so the
// page's Content-Security-Policy can allow scripts from this server only ('self').
(function () {
  "use strict";

  var script = document.currentScript;
  var endpoint = new URL(
    (script && script.dataset.endpoint) || "/graphql",
    window.location.href,
  ).toString();
  var parameters = new URLSearchParams(window.location.search);

  // The query and variables travel in the address so that a query can be shared as a link.
  // Headers never do: they carry access tokens, which must not land in browser history or
  // server logs. For the same reason they are not persisted in local storage.
  function remember(name, value) {
    if (value) {
      parameters.set(name, value);
    } else {
      parameters.delete(name);
    }
    var search = parameters.toString();
    window.history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  // GraphiQL keeps its tabs and history in local storage, headers included, even with
  // shouldPersistHeaders off. Everything it stores passes through here and loses its
  // "headers", so that no access token is ever written to disk.
  function withoutHeaders(value) {
    try {
      return JSON.stringify(
        JSON.parse(value, function (key, item) {
          return key === "headers" ? undefined : item;
        }),
      );
    } catch (notJson) {
      return value;
    }
  }
  var storage = {
    getItem: function (key) {
      return window.localStorage.getItem(key);
    },
    setItem: function (key, value) {
      window.localStorage.setItem(key, withoutHeaders(value));
    },
    removeItem: function (key) {
      window.localStorage.removeItem(key);
    },
    clear: function () {
      window.localStorage.clear();
    },
    get length() {
      return window.localStorage.length;
    },
  };

  var props = {
    fetcher: GraphiQL.createFetcher({ url: endpoint }),
    storage: storage,
    defaultQuery:
      "# MSSC national registry. Public queries need no token; for the others,\n" +
      '# put {"Authorization": "Bearer <access token>"} in the Headers tab below.\n' +
      "{\n  modules {\n    code\n    name\n  }\n}\n",
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: true,
    inputValueDeprecation: true,
    onEditQuery: function (value) {
      remember("query", value);
    },
    onEditVariables: function (value) {
      remember("variables", value);
    },
  };
  var query = parameters.get("query");
  if (query) {
    props.query = query;
  }
  var variables = parameters.get("variables");
  if (variables) {
    props.variables = variables;
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, props),
  );
})();
