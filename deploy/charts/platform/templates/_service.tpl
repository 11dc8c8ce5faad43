{{/*
The manifests of one platform service. Each template takes the context built in services.yaml:
  (dict "root" $ "name" <service key> "svc" <serviceDefaults merged with the service block>)
*/}}

{{- define "platform.metadata" -}}
name: {{ include "platform.fullname" . }}
namespace: {{ .root.Release.Namespace }}
labels:
  {{- include "platform.labels" . | nindent 2 }}
{{- end -}}

{{- define "platform.serviceAccount" -}}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  {{- include "platform.metadata" . | nindent 2 }}
automountServiceAccountToken: false
{{- end -}}

{{- define "platform.deployment" -}}
{{- $svc := .svc -}}
{{- $global := .root.Values.global -}}
{{- $podAnnotations := dict -}}
{{- if $svc.metrics.scrape -}}
{{- $_ := set $podAnnotations "prometheus.io/scrape" "true" -}}
{{- $_ := set $podAnnotations "prometheus.io/port" (include "platform.portNumber" (dict "ctx" . "port" $svc.metrics.port)) -}}
{{- $_ := set $podAnnotations "prometheus.io/path" $svc.metrics.path -}}
{{- end -}}
{{- $podAnnotations = merge $podAnnotations $svc.podAnnotations -}}
{{- $_ := include "platform.portNumber" (dict "ctx" . "port" $svc.probes.port) -}}
{{- range $portName, $envName := $svc.portEnv -}}
{{- $checked := include "platform.portNumber" (dict "ctx" $ "port" $portName) -}}
{{- end -}}
{{- $envNames := concat (values $svc.portEnv) (keys $svc.env) (keys $svc.secretEnv) -}}
{{- range $volume, $files := $svc.secretFiles -}}
{{- $envNames = concat $envNames (keys (default (dict) $files.fileEnv)) -}}
{{- end -}}
{{- range $envName := $envNames -}}
{{- /* `without` drops every occurrence: more than one dropped means the variable is set twice */ -}}
{{- if lt (len (without $envNames $envName)) (sub (len $envNames) 1) -}}
{{- fail (printf "services.%s: %s is set twice (portEnv, env, secretEnv, secretFiles.*.fileEnv)" $.name $envName) -}}
{{- end -}}
{{- end -}}
{{- $mountPaths := list "/tmp" "/etc/platform/nats-tls" -}}
{{- range $volume, $files := $svc.secretFiles -}}
{{- if has (trimSuffix "/" $files.mountPath) $mountPaths -}}
{{- fail (printf "services.%s.secretFiles.%s: mountPath %s is already mounted" $.name $volume $files.mountPath) -}}
{{- end -}}
{{- $mountPaths = append $mountPaths (trimSuffix "/" $files.mountPath) -}}
{{- end -}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  {{- include "platform.metadata" . | nindent 2 }}
spec:
  {{- if not $svc.autoscaling.enabled }}
  replicas: {{ $svc.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "platform.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "platform.labels" . | nindent 8 }}
        {{- with $svc.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "platform.fullname" . }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $svc.terminationGracePeriodSeconds }}
      securityContext:
        {{- toYaml $svc.podSecurityContext | nindent 8 }}
      {{- with $global.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      containers:
        - name: {{ .name }}
          image: {{ include "platform.image" . }}
          imagePullPolicy: {{ $global.image.pullPolicy }}
          ports:
            {{- range $portName, $port := $svc.ports }}
            - name: {{ $portName }}
              containerPort: {{ $port }}
              protocol: TCP
            {{- end }}
          env:
            # the process's own NATS user: its user and password are in the URL
            - name: NATS_URL
              valueFrom:
                secretKeyRef:
                  name: {{ $svc.nats.existingSecret | default (printf "%s-nats" .name) }}
                  key: {{ $svc.nats.urlKey }}
            {{- if $global.nats.tls.enabled }}
            - name: NATS_TLS_CA
              value: {{ printf "/etc/platform/nats-tls/%s" $global.nats.tls.caKey | quote }}
            {{- end }}
            {{- if $svc.database.enabled }}
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: {{ $svc.database.existingSecret | default (printf "%s-database" .name) }}
                  key: {{ $svc.database.secretKey }}
            {{- end }}
            - name: CALLER_TRUSTED_KEYS
              valueFrom:
                secretKeyRef:
                  name: {{ $global.callerTrust.existingSecret }}
                  key: {{ $global.callerTrust.trustedKeysKey }}
            {{- if $svc.callerKey.enabled }}
            {{- $callerKeySecret := $svc.callerKey.existingSecret | default (printf "%s-caller-key" .name) }}
            - name: CALLER_SIGNING_KEY
              valueFrom:
                secretKeyRef:
                  name: {{ $callerKeySecret }}
                  key: CALLER_SIGNING_KEY
            - name: CALLER_SIGNING_KEY_ID
              valueFrom:
                secretKeyRef:
                  name: {{ $callerKeySecret }}
                  key: CALLER_SIGNING_KEY_ID
            {{- end }}
            - name: OIDC_ISSUER
              value: {{ $global.oidc.issuer | quote }}
            - name: OIDC_AUDIENCE
              value: {{ $svc.oidc.audience | default $global.oidc.audience | quote }}
            {{- with $global.oidc.jwksUrl }}
            - name: OIDC_JWKS_URL
              value: {{ . | quote }}
            {{- end }}
            - name: LOG_LEVEL
              value: {{ $svc.logLevel | default $global.logLevel | quote }}
            {{- range $portName, $envName := $svc.portEnv }}
            - name: {{ $envName }}
              value: {{ include "platform.portNumber" (dict "ctx" $ "port" $portName) | quote }}
            {{- end }}
            {{- range $envName, $value := $svc.env }}
            - name: {{ $envName }}
              value: {{ $value | toString | quote }}
            {{- end }}
            {{- range $envName, $ref := $svc.secretEnv }}
            - name: {{ $envName }}
              valueFrom:
                secretKeyRef:
                  name: {{ $ref.secretName }}
                  key: {{ $ref.key }}
            {{- end }}
            {{- range $volume, $files := $svc.secretFiles }}
            {{- range $envName, $key := $files.fileEnv }}
            # the file of key {{ $key }} of the Secret {{ $files.secretName }}
            - name: {{ $envName }}
              value: {{ printf "%s/%s" (trimSuffix "/" $files.mountPath) $key | quote }}
            {{- end }}
            {{- end }}
          startupProbe:
            {{- include "platform.probe" (dict "ctx" . "probe" $svc.probes.startup) | nindent 12 }}
          livenessProbe:
            {{- include "platform.probe" (dict "ctx" . "probe" $svc.probes.liveness) | nindent 12 }}
          readinessProbe:
            {{- include "platform.probe" (dict "ctx" . "probe" $svc.probes.readiness) | nindent 12 }}
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          securityContext:
            {{- toYaml $svc.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- range $volume, $files := $svc.secretFiles }}
            - name: {{ $volume }}
              mountPath: {{ $files.mountPath }}
              readOnly: true
            {{- end }}
            {{- if $global.nats.tls.enabled }}
            - name: nats-tls
              mountPath: /etc/platform/nats-tls
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $svc.tmpSizeLimit }}
        {{- range $volume, $files := $svc.secretFiles }}
        - name: {{ $volume }}
          secret:
            secretName: {{ $files.secretName }}
            # 0440: readable by the owner and the group (fsGroup, the process's group) only
            defaultMode: 288
        {{- end }}
        {{- if $global.nats.tls.enabled }}
        - name: nats-tls
          secret:
            secretName: {{ $global.nats.tls.caSecret }}
            items:
              - key: {{ $global.nats.tls.caKey }}
                path: {{ $global.nats.tls.caKey }}
        {{- end }}
      {{- if $svc.topologySpread }}
      topologySpreadConstraints:
        {{- range list "kubernetes.io/hostname" "topology.kubernetes.io/zone" }}
        - maxSkew: 1
          topologyKey: {{ . }}
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "platform.selectorLabels" $ | nindent 14 }}
        {{- end }}
      {{- end }}
      {{- with $svc.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{- define "platform.clusterService" -}}
{{- $_ := required (printf "services.%s.ports.http is required when service.enabled is true" .name) .svc.ports.http -}}
---
apiVersion: v1
kind: Service
metadata:
  {{- include "platform.metadata" . | nindent 2 }}
spec:
  type: {{ .svc.service.type }}
  selector:
    {{- include "platform.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .svc.service.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{- define "platform.publicService" -}}
{{- $public := .svc.publicService -}}
{{- if not $public.ports -}}
{{- fail (printf "services.%s.publicService.ports: list the container ports the Service publishes" .name) -}}
{{- end -}}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ printf "%s-public" (include "platform.fullname" .) }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "platform.labels" . | nindent 4 }}
  {{- with $public.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $public.type }}
  {{- if eq $public.type "LoadBalancer" }}
  # keep the clients' source addresses: the process decides by them (and the NetworkPolicy's CIDRs apply to them)
  externalTrafficPolicy: Local
  {{- with $public.allowedCidrs }}
  loadBalancerSourceRanges:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- end }}
  selector:
    {{- include "platform.selectorLabels" . | nindent 4 }}
  ports:
    {{- range $portName, $port := $public.ports }}
    {{- $checked := include "platform.portNumber" (dict "ctx" $ "port" $portName) }}
    - name: {{ $portName }}
      port: {{ $port }}
      targetPort: {{ $portName }}
      protocol: TCP
    {{- end }}
{{- end -}}

{{- define "platform.ingress" -}}
{{- if not .svc.service.enabled -}}
{{- fail (printf "services.%s: ingress.enabled needs service.enabled" .name) -}}
{{- end -}}
{{- $ingress := .svc.ingress -}}
{{- if not $ingress.paths -}}
{{- fail (printf "services.%s.ingress.paths: list the path prefixes the ingress routes" .name) -}}
{{- end -}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  {{- include "platform.metadata" . | nindent 2 }}
  {{- with $ingress.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with $ingress.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- if $ingress.tlsSecretName }}
  tls:
    - hosts:
        - {{ required (printf "services.%s.ingress.host is required with tlsSecretName" .name) $ingress.host | quote }}
      secretName: {{ $ingress.tlsSecretName }}
  {{- end }}
  rules:
    - http:
        paths:
          {{- range $ingress.paths }}
          - path: {{ . }}
            pathType: Prefix
            backend:
              service:
                name: {{ include "platform.fullname" $ }}
                port:
                  name: http
          {{- end }}
      {{- with $ingress.host }}
      host: {{ . | quote }}
      {{- end }}
{{- end -}}

{{- define "platform.hpa" -}}
{{- $scaling := .svc.autoscaling -}}
{{- if gt (int $scaling.minReplicas) (int $scaling.maxReplicas) -}}
{{- fail (printf "services.%s.autoscaling: minReplicas is greater than maxReplicas" .name) -}}
{{- end -}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  {{- include "platform.metadata" . | nindent 2 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "platform.fullname" . }}
  minReplicas: {{ $scaling.minReplicas }}
  maxReplicas: {{ $scaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $scaling.targetCPUUtilizationPercentage }}
    {{- if $scaling.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ $scaling.targetMemoryUtilizationPercentage }}
    {{- end }}
{{- end -}}

{{- define "platform.pdb" -}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  {{- include "platform.metadata" . | nindent 2 }}
spec:
  maxUnavailable: {{ .svc.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "platform.selectorLabels" . | nindent 6 }}
{{- end -}}

{{- define "platform.networkPolicy" -}}
{{- $svc := .svc -}}
{{- $policy := .root.Values.global.networkPolicy -}}
{{- $egress := list $policy.egress.nats $policy.egress.oidc -}}
{{- if $svc.database.enabled -}}
{{- $egress = append $egress $policy.egress.postgresql -}}
{{- end -}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  {{- include "platform.metadata" . | nindent 2 }}
spec:
  podSelector:
    matchLabels:
      {{- include "platform.selectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
    - Egress
  ingress:
    {{- with $svc.ports.http }}
    # HTTP API
    - ports:
        - port: {{ . }}
          protocol: TCP
      {{- with $svc.networkPolicy.httpFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
    {{- if $svc.publicService.enabled }}
    # the ports the public Service publishes{{ if not $svc.publicService.allowedCidrs }}, from any address{{ end }}
    - ports:
        {{- range $portName, $servicePort := $svc.publicService.ports }}
        - port: {{ include "platform.portNumber" (dict "ctx" $ "port" $portName) }}
          protocol: TCP
        {{- end }}
      {{- with $svc.publicService.allowedCidrs }}
      from:
        {{- range . }}
        - ipBlock:
            cidr: {{ . }}
        {{- end }}
      {{- end }}
    {{- end }}
    {{- with include "platform.portNumber" (dict "ctx" . "port" $svc.metrics.port) }}
    # health and metrics: pods of this namespace and Prometheus
    - ports:
        - port: {{ . }}
          protocol: TCP
      from:
        - podSelector: {}
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $policy.monitoringNamespace }}
    {{- end }}
  egress:
    # DNS
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $policy.dns.namespace }}
          {{- with $policy.dns.podLabels }}
          podSelector:
            matchLabels:
              {{- toYaml . | nindent 14 }}
          {{- end }}
      ports:
        - port: {{ $policy.dns.port }}
          protocol: UDP
        - port: {{ $policy.dns.port }}
          protocol: TCP
    {{- range $egress }}
    - ports:
        - port: {{ .port }}
          protocol: TCP
      {{- with .to }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
    {{- with $svc.networkPolicy.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}
