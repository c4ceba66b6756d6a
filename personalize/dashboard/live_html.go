package dashboard

const liveHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
{{if gt .RefreshSecs 0}}<meta http-equiv="refresh" content="{{.RefreshSecs}}"/>{{end}}
<title>rankscope{{with .S.Service}}: {{.}}{{end}}</title>
<style>{{.Style}}</style>
</head>
<body>
<header>
<h1>rankscope{{with .S.Service}} · {{.}}{{end}}</h1>
<p>Snapshot {{ts .S.Time}} · up {{num .S.UptimeSeconds}} s{{if gt .RefreshSecs 0}} · refreshes every {{.RefreshSecs}} s{{end}} · <a href="json">same data as JSON</a>{{if .S.SourceErrors}} · <span class="bad">{{.S.SourceErrors}} panel source(s) failed</span>{{end}}</p>
</header>
<main>
<section class="wide" id="alerts">
<h2>Alerts firing</h2>
{{if or .Critical .Routine}}
<table class="stats"><tr><th>severity</th><th>rule</th><th>key</th><th>value</th><th>threshold</th><th>since</th><th class="wrap">what the value measures</th></tr>
{{range .Critical}}<tr class="bad"><td>critical</td><td>{{.Rule}}</td><td>{{.Key}}</td><td>{{num .Value}}</td><td>{{num .Limit}}</td><td>{{ts .Since}}</td><td class="wrap">{{ruleMeaning .Rule}}</td></tr>
{{end}}{{range .Routine}}<tr class="warn"><td>{{.Severity}}</td><td>{{.Rule}}</td><td>{{.Key}}</td><td>{{num .Value}}</td><td>{{num .Limit}}</td><td>{{ts .Since}}</td><td class="wrap">{{ruleMeaning .Rule}}</td></tr>
{{end}}</table>
<p>{{len .Critical}} critical, {{len .Routine}} routine.</p>
{{else}}<p class="ok">No alert is firing.</p>{{end}}
</section>

<section class="wide" id="latency">
<h2>Latency by stage</h2>
{{if .Stages}}<div class="charts">
{{range .Stages}}<div>
{{.Chart}}
<table><tr><th>{{.Stage}}</th><th>count</th><th>mean</th><th>p50</th><th>p95</th><th>p99</th><th>degraded</th></tr>
{{range .Windows}}<tr><td>last {{.Window}}</td><td>{{.Count}}</td><td>{{ms .MeanMs}}</td><td>{{ms .P50Ms}}</td><td>{{ms .P95Ms}}</td><td>{{ms .P99Ms}}</td><td>{{.Degraded}}</td></tr>
{{end}}</table>
{{if .Objectives}}<table><tr><th>SLO</th><th>target</th><th>observed</th><th>count</th><th>state</th><th>since</th></tr>
{{range .Objectives}}<tr><td>{{.Target}} over {{.Window}}</td><td>≤ {{ms .ObjectiveMs}}</td><td>{{ms .ObservedMs}}</td><td>{{.Count}}</td><td class="{{objClass .}}">{{objText .}}</td><td>{{ts .Since}}</td></tr>
{{end}}</table>{{end}}
</div>
{{end}}</div>{{else}}<p class="muted">No latency source configured.</p>{{end}}
</section>

<section id="traffic">
<h2>Traffic and freshness</h2>
{{with .S.Traffic}}<div class="tiles">
<div class="tile"><b>{{num .RequestsPerSecond}}</b><span>requests/s (last minute)</span></div>
<div class="tile"><b>{{num .EventsPerSecond}}</b><span>events/s (last minute)</span></div>
<div class="tile"><b>{{age .LastEventAgeSeconds}}</b><span>newest event</span></div>
<div class="tile"><b>{{num .LagP95Seconds}} s</b><span>p95 event age at arrival</span></div>
</div>{{end}}
{{.TrafficChart}}
{{if not .S.Traffic}}<p class="muted">No traffic source configured.</p>{{end}}
</section>

<section id="runtime">
<h2>Process</h2>
{{with .S.Runtime}}<div class="tiles">
<div class="tile"><b>{{pct .CPUFraction}}</b><span>CPU of {{.GOMAXPROCS}} procs</span></div>
<div class="tile"><b>{{bytes .HeapBytes}}</b><span>heap (goal {{bytes .HeapGoal}})</span></div>
<div class="tile"><b>{{.Goroutines}}</b><span>goroutines</span></div>
<div class="tile"><b>{{ms .GCPauseP99Ms}}</b><span>GC pause p99 (p50 {{ms .GCPauseP50Ms}}, max {{ms .GCPauseMaxMs}}; {{.GCCycles}} cycles)</span></div>
</div>{{else}}<p class="muted">No runtime source configured.</p>{{end}}
</section>

<section id="pipeline">
<h2>Pipeline</h2>
{{with .S.Pipeline}}<div class="tiles">
<div class="tile"><b>{{.Accepted}}</b><span>events accepted</span></div>
<div class="tile"><b>{{.Queued}} / {{.QueueCapacity}}</b><span>queued / capacity</span></div>
<div class="tile"><b>{{.OptedOut}}</b><span>not exported (consent)</span></div>
</div>
{{if .Dropped}}{{$.DropChart}}{{else}}<p class="ok">No event dropped.</p>{{end}}
{{if .Rejected}}{{$.RejectChart}}{{else}}<p class="ok">No event rejected.</p>{{end}}
{{if .Exporters}}<h3>Exporters</h3>
<table><tr><th>exporter</th><th>exported</th><th>dropped</th><th>in flight</th><th>last export</th><th>last error</th><th>health</th></tr>
{{range .Exporters}}<tr><td>{{.Name}}</td><td>{{.Exported}}</td><td>{{.Dropped}}</td><td>{{.InFlight}}</td><td>{{age .LastExportAgeSeconds}}</td><td>{{.LastError}}</td><td class="{{if .Healthy}}ok{{else}}bad{{end}}">{{if .Healthy}}healthy{{else}}unhealthy{{end}}</td></tr>
{{end}}</table>{{end}}
{{else}}<p class="muted">No pipeline source configured.</p>{{end}}
</section>

<section id="experiments">
<h2>Experiments</h2>
{{range .ExpCharts}}<div>
{{.Chart}}
<p>Sample ratio: <span class="badge {{verdictClass .SRM}}">{{.SRM}}</span>{{if ge .SRMPValue 0.0}} (chi-square p = {{num .SRMPValue}}, alarm below {{num .SRMThreshold}}{{if .WeightsAssumed}}, equal split assumed{{end}}){{end}}</p>
</div>
{{else}}<p class="muted">No experiment exposures seen.</p>{{end}}
</section>

<section id="relevance">
<h2>Relevance</h2>
{{if .CalChart}}{{.CalChart}}{{with .S.Calibration}}<p>{{.Count}} scored items; expected calibration error {{num .ECE}}, maximum {{num .MCE}}, Brier score {{num .Brier}}.</p>{{end}}{{else}}<p class="muted">No calibration data (a relevance source is needed; scores must be probabilities in [0, 1]).</p>{{end}}
{{with .S.Ranking}}<p>NDCG@{{.K}} {{num .NDCG}}, MRR {{num .MRR}} over {{.Judged}} of {{.Impressions}} rankings with a positive outcome.</p>{{end}}
{{if .CTRChart}}{{.CTRChart}}{{end}}
</section>

<section id="fairness">
<h2>Exposure per group</h2>
{{with .S.Fairness}}<div class="tiles">
<div class="tile"><b>{{num .DisparateTreatment}}</b><span>disparate treatment (1 = parity)</span></div>
<div class="tile"><b>{{num .DemographicParity}}</b><span>demographic parity</span></div>
<div class="tile"><b>{{num .Diversity.MeanCategories}}</b><span>categories per ranking</span></div>
<div class="tile"><b>{{num .Diversity.ItemGini}}</b><span>item exposure Gini</span></div>
</div>{{end}}
{{if .ExposureChart}}{{.ExposureChart}}
<table><tr><th>group</th><th>placements</th><th>exposure share</th><th>relevance share</th><th>click share</th><th>exposure share ÷ relevance share</th></tr>
{{range .S.Fairness.Groups}}<tr><td>{{.Group}}</td><td>{{.Placements}}</td><td>{{pct .ExposureShare}}</td><td>{{pct .RelevanceShare}}</td><td>{{pct .ClickShare}}</td><td>{{num .ShareRatio}}</td></tr>
{{end}}</table>
<p class="muted">Exposure share ÷ relevance share is 1 when a group gets exposure in proportion to its expected relevance, above 1 when over-exposed; disparate treatment is its smallest over its largest value across groups.</p>{{else}}<p class="muted">No fairness source configured (or no item groups seen).</p>{{end}}
</section>

<section id="drift">
<h2>Feature drift and freshness</h2>
{{if .DriftChart}}{{.DriftChart}}
<table><tr><th>feature</th><th>PSI</th><th>KS</th><th>JS</th><th>Wasserstein</th><th>missing</th><th>out of range</th><th>status</th></tr>
{{range .S.Drift}}<tr><td>{{.Feature}}</td><td>{{num .PSI}}</td><td>{{num .KS}}</td><td>{{num .JS}}</td><td>{{num .WassersteinSD}} sd</td><td>{{ppts .MissingChange}}</td><td>{{pct .OutOfRange}}</td><td class="{{verdictClass .Status}}">{{.Status}}</td></tr>
{{end}}</table>
<dl class="defs">{{range meanings}}<dt>{{.Name}} ({{.Unit}})</dt><dd>{{.Means}}</dd>{{end}}</dl>
{{else}}<p class="muted">No drift source configured.</p>{{end}}
{{with .S.Freshness}}<table><tr><th>source</th><th>count</th><th>mean age</th><th>p50</th><th>p99</th><th>max</th></tr>
{{range .}}<tr><td>{{.Source}}</td><td>{{.Count}}</td><td>{{ms .MeanMs}}</td><td>{{ms .P50Ms}}</td><td>{{ms .P99Ms}}</td><td>{{ms .MaxMs}}</td></tr>
{{end}}</table>{{end}}
</section>
</main>
<footer>
{{range .S.Notes}}<div>{{.}}</div>{{end}}
{{with .S.Truncated}}<div>Rows left out to bound the page: {{range $k, $v := .}}{{$k}} {{$v}}; {{end}}</div>{{end}}
<div>Read-only page. Aggregates only: no user, session or request identifier is ever shown.</div>
</footer>
</body>
</html>
`
