// Starts GraphiQL in the page the gateway serves at GET /graphql (to browsers, when introspection is on).
// A file of its own, not an inline script: the page's Content-Security-Policy runs scripts of the gateway's origin only.
// React, ReactDOM and GraphiQL are the globals of the UMD builds the page loads before this file.
(() => {
  // The headers every request of the IDE sends; the token is the user's to paste, and is never stored by the page.
  const headers = {
    authorization: 'Bearer <paste a token: npm run -s token -- --help>',
    'x-matter-code': 'TB-HJ-004',
  };
  const query = `# Paste a bearer token into the headers below (npm run -s token), set the matter, then run.
query Dossier {
  person(idNumber: "430102198503129119") {
    idNumber
    name
    registration { address { full } }
  }
}
`;
  const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: query,
      defaultHeaders: JSON.stringify(headers, null, 2),
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }),
  );
})();
