// Draws the charts a page declares: <canvas data-chart="daily|campaigns" data-source="id">,
// the data in <script type="application/json" id="id">. Needs Chart.js (chart.umd.min.js).
(function () {
  "use strict";
  var COLORS = { hard: "#c0392b", soft: "#e6a23c", complaint: "#8e44ad" };

  function daily(canvas, data) {
    var names = ["hard", "soft", "complaint"];
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: names.map(function (name) {
          return { label: name, data: data.series[name], backgroundColor: COLORS[name], stack: "all" };
        })
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  function campaigns(canvas, data) {
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.campaigns.labels,
        datasets: [{ label: "bounce rate %", data: data.campaigns.rates, backgroundColor: "#2f5fd0" }]
      },
      options: {
        animation: false,
        indexAxis: "y",
        maintainAspectRatio: false,
        scales: { x: { beginAtZero: true } },
        plugins: { legend: { display: false } }
      }
    });
  }

  function rates(canvas, data) {
    function limit(value, color) {
      return { label: "", data: data.labels.map(function () { return value; }), borderColor: color,
        borderDash: [6, 4], pointRadius: 0, borderWidth: 1 };
    }
    var bounce = limit(data.limits.bounce, COLORS.hard);
    bounce.label = "bounce limit %";
    var complaint = limit(data.limits.complaint, COLORS.complaint);
    complaint.label = "complaint limit %";
    return new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: "bounce rate %", data: data.rates.bounce, borderColor: COLORS.hard, tension: 0.2 },
          { label: "complaint rate %", data: data.rates.complaint, borderColor: COLORS.complaint, tension: 0.2 },
          bounce,
          complaint
        ]
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  var KINDS = { daily: daily, campaigns: campaigns, rates: rates };
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.source);
    var draw = KINDS[canvas.dataset.chart];
    if (!source || !draw || typeof Chart === "undefined") return;
    draw(canvas, JSON.parse(source.textContent));
    canvas.dataset.drawn = "true";
  });
})();
