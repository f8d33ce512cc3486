// Tell the vendored @jupyter-widgets/html-manager where its fonts are (next to
// embed-amd.js). Its AMD bundle takes its asset path from the module's URI,
// which RequireJS would otherwise resolve relative to the page.
(function () {
  var base = document.currentScript.src.replace(/widgets-assets\.js.*$/, "html-manager");
  window.__jupyter_widgets_assets_path__ = base + "/";
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": base } });
})();
