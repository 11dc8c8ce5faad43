{{/*
Helpers for one service. Every helper takes the context built in services.yaml:
  (dict "root" $ "name" <service key> "svc" <serviceDefaults merged with the service block>)
*/}}

{{/* Object name: <release>-<service>, at most 63 characters. */}}
{{- define "platform.fullname" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Image tag: the service's tag, else the global tag, else the chart's appVersion. Never `latest`. */}}
{{- define "platform.tag" -}}
{{- $tag := .svc.image.tag | default .root.Values.global.image.tag | default .root.Chart.AppVersion | toString -}}
{{- if eq $tag "latest" -}}
{{- fail (printf "services.%s: the image tag must be a version, not latest" .name) -}}
{{- end -}}
{{- $tag -}}
{{- end -}}

{{- define "platform.image" -}}
{{- $repository := required (printf "services.%s.image.repository is required" .name) .svc.image.repository -}}
{{- $image := printf "%s/%s:%s" (trimSuffix "/" .root.Values.global.image.registry) $repository (include "platform.tag" .) -}}
{{- if .svc.image.digest -}}
{{- $image = printf "%s@%s" $image .svc.image.digest -}}
{{- end -}}
{{- $image -}}
{{- end -}}

{{/* Labels that select the service's pods: stable across upgrades. */}}
{{- define "platform.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "platform.labels" -}}
{{ include "platform.selectorLabels" . }}
app.kubernetes.io/version: {{ include "platform.tag" . | quote }}
app.kubernetes.io/component: {{ ternary "gateway" "service" (hasKey .svc.ports "http") }}
app.kubernetes.io/part-of: {{ .root.Values.global.partOf }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The number of a named container port: (dict "ctx" <context> "port" <name>). */}}
{{- define "platform.portNumber" -}}
{{- $number := index .ctx.svc.ports .port -}}
{{- if not $number -}}
{{- fail (printf "services.%s: no port named %s in ports" .ctx.name .port) -}}
{{- end -}}
{{- $number -}}
{{- end -}}

{{/* One HTTP probe: (dict "ctx" <context> "probe" <probe settings>). */}}
{{- define "platform.probe" -}}
httpGet:
  path: {{ .probe.path }}
  port: {{ .ctx.svc.probes.port }}
  scheme: HTTP
{{- with .probe.initialDelaySeconds }}
initialDelaySeconds: {{ . }}
{{- end }}
periodSeconds: {{ .probe.periodSeconds }}
timeoutSeconds: {{ .probe.timeoutSeconds }}
failureThreshold: {{ .probe.failureThreshold }}
{{- end -}}
