{{/* Object-name prefix: release name + chart name, at most 63 characters. */}}
{{- define "sa.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels on every object; call with (dict "root" $ "component" "tokenserver"). */}}
{{- define "sa.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{ include "sa.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: signaling-auth
{{- end -}}

{{/* Labels a component's selectors match on. */}}
{{- define "sa.selectorLabels" -}}
app.kubernetes.io/name: {{ default .root.Chart.Name .root.Values.nameOverride }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Name of the Secret the programs read: existingSecret or the chart's own. */}}
{{- define "sa.secretName" -}}
{{- default (printf "%s-secrets" (include "sa.fullname" .)) .Values.existingSecret -}}
{{- end -}}

{{/* True ("true") when the chart makes the Secret: no existingSecret and some secret value. */}}
{{- define "sa.makeSecret" -}}
{{- if and (not .Values.existingSecret) (or .Values.secrets.appCertificate .Values.secrets.apiKeys .Values.secrets.jwtSecret .Values.redis.url) -}}true{{- end -}}
{{- end -}}

{{/* URL of the chart's own Redis (holds no password: it is reached only from this release's pods). */}}
{{- define "sa.redisServiceURL" -}}
{{- printf "redis://%s-redis:6379/0" (include "sa.fullname" .) -}}
{{- end -}}

{{/* Image reference; call with (dict "root" $ "image" .Values.x.image). */}}
{{- define "sa.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{/*
Environment of a program that reads secrets; call with (dict "root" $ "prefix" "TOKENSERVER_"
"keys" (list "app-certificate" ...)). Each variable comes from the Secret by secretKeyRef,
never as a literal; only the keys the configuration needs are listed, each required, so a
missing key stops the pod at start with the key's name instead of running without it.
*/}}
{{- define "sa.secretEnv" -}}
{{- $root := .root -}}
{{- $vars := dict "app-certificate" "AGORA_APP_CERTIFICATE" "api-keys" "AUTH_API_KEYS" "jwt-secret" "AUTH_JWT_SECRET" "redis-url" "RATE_LIMIT_REDIS_URL" -}}
{{- range .keys }}
- name: {{ $.prefix }}{{ get $vars . }}
  valueFrom:
    secretKeyRef:
      name: {{ include "sa.secretName" $root }}
      key: {{ . }}
{{- end }}
{{- end -}}

{{/* The Secret keys tokenserver reads, as a comma-separated list ("" : none). */}}
{{- define "sa.tokenserverSecretKeys" -}}
{{- $t := .Values.tokenserver -}}
{{- $keys := list -}}
{{- if $t.agora.appId }}{{ $keys = append $keys "app-certificate" }}{{ end -}}
{{- if eq $t.auth.mode "api_key" }}{{ $keys = append $keys "api-keys" }}{{ end -}}
{{- if and (eq $t.auth.mode "jwt") (not $t.auth.jwt.jwksUrl) }}{{ $keys = append $keys "jwt-secret" }}{{ end -}}
{{- if and (eq $t.rateLimit.store "redis") (not .Values.redis.enabled) }}{{ $keys = append $keys "redis-url" }}{{ end -}}
{{- join "," $keys -}}
{{- end -}}

{{/* Pod-level security context: non-root (distroless's nonroot user), RuntimeDefault seccomp. */}}
{{- define "sa.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security context: nothing to escalate, nothing to write, no capabilities. */}}
{{- define "sa.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Spread a component's pods over nodes and zones (best effort, so one node still schedules). */}}
{{- define "sa.topologySpread" -}}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "sa.selectorLabels" . | nindent 6 }}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "sa.selectorLabels" . | nindent 6 }}
{{- end -}}


{{/* trusted_proxies of corsproxy: corsproxy.trustedProxies, and the ingress controller only while an Ingress is on. */}}
{{- define "sa.corsproxyTrusted" -}}
{{- $list := .Values.corsproxy.trustedProxies -}}
{{- if .Values.ingress.enabled }}{{ $list = concat $list .Values.ingress.controllerAddresses }}{{ end -}}
{{- $list | uniq | toJson -}}
{{- end -}}

{{/* trusted_proxies of tokenserver: tokenserver.trustedProxies, and the pod CIDRs only behind its NetworkPolicy. */}}
{{- define "sa.tokenserverTrusted" -}}
{{- $list := .Values.tokenserver.trustedProxies -}}
{{- if .Values.networkPolicy.enabled }}{{ $list = concat $list .Values.networkPolicy.podCIDRs }}{{ end -}}
{{- $list | uniq | toJson -}}
{{- end -}}

{{/* Paths corsproxy passes on (its allowed_paths default): what an Ingress sharing one host with the page routes to it. */}}
{{- define "sa.proxyPaths" -}}
/rtm/,/rtc/,/rte/,/chat/,/getToken,/v1/tokens
{{- end -}}

{{/*
Salt of the checksum/secret annotations: random (crypto/rand), kept in the chart's Secret as
rollout-salt and read back with lookup on upgrade, so a pod rolls when a secret it reads
changes, while the annotation is no hash anyone who can read pods could test password guesses
against. Drawn once per rendering (remembered in .Values, a copy Helm makes for rendering).
Without a cluster (helm template) every rendering draws a new one.
*/}}
{{- define "sa.rolloutSalt" -}}
{{- if not (hasKey .Values "_rolloutSalt") -}}
{{- $salt := "" -}}
{{- $live := lookup "v1" "Secret" .Release.Namespace (include "sa.secretName" .) -}}
{{- if and $live $live.data (hasKey $live.data "rollout-salt") }}{{ $salt = index $live.data "rollout-salt" | b64dec }}{{ end -}}
{{- if not $salt }}{{ $salt = randAlphaNum 43 }}{{ end -}}
{{- $_ := set .Values "_rolloutSalt" $salt -}}
{{- end -}}
{{- get .Values "_rolloutSalt" -}}
{{- end -}}

{{/*
checksum/secret of a pod that reads the listed keys of the chart's Secret; call with
(dict "root" $ "keys" (list "redis-url")). Salted (sa.rolloutSalt), never a plain hash.
*/}}
{{- define "sa.secretChecksum" -}}
{{- $v := .root.Values -}}
{{- $values := dict "app-certificate" $v.secrets.appCertificate "api-keys" (join "," $v.secrets.apiKeys) "jwt-secret" $v.secrets.jwtSecret "redis-url" $v.redis.url -}}
{{- $text := include "sa.rolloutSalt" .root -}}
{{- range .keys }}{{ $text = printf "%s\n%s=%s" $text . (get $values .) }}{{ end -}}
{{- sha256sum $text -}}
{{- end -}}
