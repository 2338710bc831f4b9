{{/* Names, labels and the derived settings every template shares. */}}

{{- define "egress-advisor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "egress-advisor.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "egress-advisor.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels that select the bridge's pods. They never include the Mattermost pod labels. */}}
{{- define "egress-advisor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "egress-advisor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "egress-advisor.labels" -}}
helm.sh/chart: {{ include "egress-advisor.chart" . }}
{{ include "egress-advisor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: bridge
app.kubernetes.io/part-of: egress-advisor
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "egress-advisor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "egress-advisor.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "egress-advisor.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/* Namespace whose pods are read: the Mattermost namespace. The Role lives there. */}}
{{- define "egress-advisor.logNamespace" -}}
{{- default .Release.Namespace .Values.mattermost.namespace }}
{{- end }}

{{- define "egress-advisor.logSelector" -}}
{{- if .Values.logSource.labelSelector }}
{{- .Values.logSource.labelSelector }}
{{- else }}
{{- $pairs := list }}
{{- range $k, $v := .Values.mattermost.podLabels }}
{{- $pairs = append $pairs (printf "%s=%s" $k $v) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}
{{- end }}

{{/* kubernetes:<namespace>?selector=<selector>, the form the Kubernetes source names itself by. */}}
{{- define "egress-advisor.sources" -}}
{{- default (printf "kubernetes:%s?selector=%s" (include "egress-advisor.logNamespace" .) (include "egress-advisor.logSelector" .)) .Values.logSource.sources }}
{{- end }}

{{- define "egress-advisor.publicUrl" -}}
{{- default (printf "http://%s.%s.svc.cluster.local:%v" (include "egress-advisor.fullname" .) .Release.Namespace .Values.service.port) .Values.config.publicUrl }}
{{- end }}

{{/* The Secret the token file comes from, and the key in it. */}}
{{- define "egress-advisor.tokenSecretName" -}}
{{- default (printf "%s-mattermost-token" (include "egress-advisor.fullname" .)) .Values.mattermost.existingSecret }}
{{- end }}

{{- define "egress-advisor.tokenSecretKey" -}}
{{- if .Values.mattermost.existingSecret }}{{ .Values.mattermost.existingSecretKey }}{{ else }}token{{ end }}
{{- end }}

{{- define "egress-advisor.valuesConfigMapName" -}}
{{- default (printf "%s-bigbang-values" (include "egress-advisor.fullname" .)) .Values.suggestions.existingConfigMap }}
{{- end }}

{{- define "egress-advisor.valuesConfigMapKey" -}}
{{- if .Values.suggestions.existingConfigMap }}{{ .Values.suggestions.existingConfigMapKey }}{{ else }}values.yaml{{ end }}
{{- end }}

{{- define "egress-advisor.hasValuesFile" -}}
{{- if or .Values.suggestions.existingConfigMap .Values.suggestions.bigbangValues }}true{{ end }}
{{- end }}

{{/* Paths inside the container. */}}
{{- define "egress-advisor.tokenDir" -}}/var/run/secrets/egress-advisor/mattermost{{- end }}
{{- define "egress-advisor.valuesDir" -}}/etc/egress-advisor/bigbang{{- end }}
{{- define "egress-advisor.dataDir" -}}/data{{- end }}

{{/* Refuses values that would render a broken or unsafe install. Included by the Deployment. */}}
{{- define "egress-advisor.validate" -}}
{{- if ne (int .Values.replicaCount) 1 }}
{{- fail "replicaCount must be 1: the bridge keeps its store in SQLite on one volume and posts the alerts; a second replica would post them twice" }}
{{- end }}
{{- if and .Values.mattermost.url (not .Values.mattermost.existingSecret) (not .Values.mattermost.token) }}
{{- fail "the bridge needs a Mattermost token: set mattermost.existingSecret (a Secret with the key mattermost.existingSecretKey, default \"token\") or mattermost.token" }}
{{- end }}
{{- if and .Values.mattermost.existingSecret .Values.mattermost.token }}
{{- fail "set either mattermost.existingSecret or mattermost.token, not both" }}
{{- end }}
{{- range .Values.extraEnv }}
{{- if eq (toString .name) "MATTERMOST_TOKEN" }}
{{- fail "extraEnv must not set MATTERMOST_TOKEN: the token is read from the Secret file (MATTERMOST_TOKEN_FILE)" }}
{{- end }}
{{- end }}
{{- range $k, $v := .Values.mattermost.podLabels }}
{{- if eq (toString (index $.Values.podLabels $k)) (toString $v) }}
{{- fail (printf "podLabels must not contain %s=%s: the bridge would match the Mattermost pod selector (log source and NetworkPolicy peers)" $k $v) }}
{{- end }}
{{- end }}
{{- end }}
