{{- /*
One set of manifests per enabled block under `services`, each block merged over `serviceDefaults`.
Adding a service is a values block; nothing here names a service.
*/ -}}
{{- range $name, $block := .Values.services }}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $name) }}
{{- fail (printf "services.%s: service names are lower-case kebab-case (they become app.kubernetes.io/name)" $name) }}
{{- end }}
{{- $svc := mergeOverwrite (deepCopy $.Values.serviceDefaults) (deepCopy (default (dict) $block)) }}
{{- if $svc.enabled }}
{{- $ctx := dict "root" $ "name" $name "svc" $svc }}
{{ include "platform.serviceAccount" $ctx }}
{{ include "platform.deployment" $ctx }}
{{- if $svc.service.enabled }}
{{ include "platform.clusterService" $ctx }}
{{- end }}
{{- if $svc.publicService.enabled }}
{{ include "platform.publicService" $ctx }}
{{- end }}
{{- if $svc.ingress.enabled }}
{{ include "platform.ingress" $ctx }}
{{- end }}
{{- if $svc.autoscaling.enabled }}
{{ include "platform.hpa" $ctx }}
{{- end }}
{{- if $svc.podDisruptionBudget.enabled }}
{{ include "platform.pdb" $ctx }}
{{- end }}
{{- if $.Values.global.networkPolicy.enabled }}
{{ include "platform.networkPolicy" $ctx }}
{{- end }}
{{- end }}
{{- end }}
