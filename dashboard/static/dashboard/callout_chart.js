/* The callout page's chart: the per-minute series (GET <data-series-url>, the same data as
   /api/callouts/:id/callout_statistics/series) drawn with uPlot, refreshed every 10 seconds. */
(function () {
  "use strict";
  var el = document.getElementById("chart");
  if (!el || typeof uPlot === "undefined") return;
  var labels = JSON.parse(el.dataset.labels);
  var timeZone = el.dataset.timeZone || "UTC"; // the account's: the axis reads as the rest of the page
  var keys = ["dialled", "answered", "busy", "not_answered", "failed"];
  var colours = ["#1f5fbf", "#1b7f3b", "#a15c00", "#6b7280", "#b3261e"];
  var plot = null;

  function toData(series) {
    var xs = [], ys = keys.map(function () { return []; });
    series.data.forEach(function (point) {
      xs.push(Date.parse(point.minute) / 1000);
      keys.forEach(function (key, i) { ys[i].push(point[key]); });
    });
    return [xs].concat(ys);
  }

  function options() {
    return {
      width: Math.max(280, el.clientWidth),
      height: 260,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), timeZone); },
      series: [{ label: labels.time }].concat(keys.map(function (key, i) {
        return { label: labels[key], stroke: colours[i], width: 2, points: { show: false } };
      })),
      axes: [{}, { size: 40 }],
      scales: { y: { range: function (u, min, max) { return [0, Math.max(5, max)]; } } },
    };
  }

  function refresh() {
    fetch(el.dataset.seriesUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (series) {
        var data = toData(series);
        if (plot) { plot.setData(data); } else { plot = new uPlot(options(), data, el); }
        el.dataset.points = String(data[0].length);
        el.dataset.total = String(data.slice(1).reduce(function (sum, ys) {
          return sum + ys.reduce(function (a, b) { return a + b; }, 0);
        }, 0));
      })
      .catch(function () { /* the next refresh tries again */ });
  }

  window.addEventListener("resize", function () { if (plot) plot.setSize({ width: Math.max(280, el.clientWidth), height: 260 }); });
  refresh();
  setInterval(refresh, 10000);
})();
