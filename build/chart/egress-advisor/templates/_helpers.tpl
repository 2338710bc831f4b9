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

{{/* A PostgreSQL store is configured: several replicas may run, one of them leading. */}}
{{- define "egress-advisor.hasDatabase" -}}
{{- if or .Values.database.existingSecret .Values.database.url }}true{{ end }}
{{- end }}

{{/* The Secret the database URL file comes from, and the key in it. */}}
{{- define "egress-advisor.databaseSecretName" -}}
{{- default (printf "%s-database" (include "egress-advisor.fullname" .)) .Values.database.existingSecret }}
{{- end }}

{{- define "egress-advisor.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}{{ .Values.database.existingSecretKey }}{{ else }}url{{ end }}
{{- end }}

{{/* Cluster-scoped, so the release namespace is part of the name: two releases never share it. */}}
{{- define "egress-advisor.clusterRoleName" -}}
{{- printf "%s-%s-serviceentries" (include "egress-advisor.fullname" .) .Release.Namespace }}
{{- end }}

{{- define "egress-advisor.namespaceReaderName" -}}
{{- printf "%s-%s-namespace" (include "egress-advisor.fullname" .) .Release.Namespace }}
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
{{- define "egress-advisor.databaseDir" -}}/var/run/secrets/egress-advisor/database{{- end }}
{{- define "egress-advisor.valuesDir" -}}/etc/egress-advisor/bigbang{{- end }}
{{- define "egress-advisor.dataDir" -}}/data{{- end }}

{{/* Refuses values that would render a broken or unsafe install. Included by the Deployment. */}}
{{- define "egress-advisor.validate" -}}
{{- $db := .Values.database }}
{{- $replicas := int .Values.replicaCount }}
{{- if and $db.existingSecret $db.url }}
{{- fail "set either database.existingSecret or database.url, not both" }}
{{- end }}
{{- /* The URL is never echoed: it may hold a password, and Helm's errors end up in CI logs. */}}
{{- if and $db.url (not (regexMatch "^postgres(ql)?://" (toString $db.url))) }}
{{- fail "database.url must be a postgres:// or postgresql:// URL" }}
{{- end }}
{{- if include "egress-advisor.hasDatabase" . }}
{{- if lt $replicas 1 }}
{{- fail "replicaCount must be at least 1" }}
{{- end }}
{{- if .Values.persistence.enabled }}
{{- fail "persistence.enabled keeps the SQLite store on a volume, but with database.existingSecret or database.url the store is PostgreSQL and nothing would be kept there: set persistence.enabled=false" }}
{{- end }}
{{- $peer := $db.networkPolicy }}
{{- if and .Values.networkPolicy.enabled (not (or $peer.cidr $peer.podSelector $peer.namespaceSelector)) }}
{{- fail "the NetworkPolicy must let the bridge reach the database: set database.networkPolicy.cidr, or database.networkPolicy.podSelector and/or namespaceSelector (or networkPolicy.enabled=false)" }}
{{- end }}
{{- if and $peer.cidr (or $peer.podSelector $peer.namespaceSelector) }}
{{- fail "set either database.networkPolicy.cidr or its podSelector/namespaceSelector, not both" }}
{{- end }}
{{- range $field := list "podSelector" "namespaceSelector" }}
{{- range $k, $_ := index $peer $field }}
{{- if not (has $k (list "matchLabels" "matchExpressions")) }}
{{- fail (printf "database.networkPolicy.%s is a label selector: put the labels under matchLabels (found the key %s)" $field $k) }}
{{- end }}
{{- end }}
{{- end }}
{{- $min := .Values.podDisruptionBudget.minAvailable }}
{{- if and (gt $replicas 1) (not (kindIs "string" $min)) (ge (int $min) $replicas) }}
{{- fail (printf "podDisruptionBudget.minAvailable (%v) must be less than replicaCount (%d), or no node drain could ever evict a bridge pod" $min $replicas) }}
{{- end }}
{{- else if ne $replicas 1 }}
{{- fail "replicaCount must be 1 without a database: the store is then SQLite, one file on one volume that several pods cannot share (and each would post the alerts). For more replicas, set database.existingSecret (a Secret holding a postgres:// URL under the key database.existingSecretKey, default \"url\") or database.url" }}
{{- end }}
{{- if and .Values.networkPolicy.enabled (empty .Values.networkPolicy.kubeApiServer.cidrs) }}
{{- fail "networkPolicy.kubeApiServer.cidrs is required with networkPolicy.enabled: the addresses of the Kubernetes API server (kubectl get endpoints -n default kubernetes), e.g. --set networkPolicy.kubeApiServer.cidrs={10.0.0.10/32}" }}
{{- end }}
{{- if and .Values.mattermost.url (not .Values.mattermost.existingSecret) (not .Values.mattermost.token) }}
{{- fail "the bridge needs a Mattermost token: set mattermost.existingSecret (a Secret with the key mattermost.existingSecretKey, default \"token\") or mattermost.token" }}
{{- end }}
{{- if and .Values.mattermost.existingSecret .Values.mattermost.token }}
{{- fail "set either mattermost.existingSecret or mattermost.token, not both" }}
{{- end }}
{{- if not .Values.istio.rootNamespace }}
{{- fail "istio.rootNamespace must name Istio's root namespace (istio-system, unless Istio's mesh config sets another rootNamespace)" }}
{{- end }}
{{- if and .Values.rbac.meshConfig (not .Values.istio.meshConfigMap) }}
{{- fail "istio.meshConfigMap must name the mesh config's ConfigMap (istio, or istio-<revision>), or set rbac.meshConfig=false" }}
{{- end }}
{{- range .Values.extraEnv }}
{{- if eq (toString .name) "MATTERMOST_TOKEN" }}
{{- fail "extraEnv must not set MATTERMOST_TOKEN: the token is read from the Secret file (MATTERMOST_TOKEN_FILE)" }}
{{- end }}
{{- if eq (toString .name) "EGRESS_ADVISOR_DATABASE_URL" }}
{{- fail "extraEnv must not set EGRESS_ADVISOR_DATABASE_URL: set database.existingSecret, whose URL is read from a file (EGRESS_ADVISOR_DATABASE_URL_FILE)" }}
{{- end }}
{{- end }}
{{- range $k, $v := .Values.mattermost.podLabels }}
{{- if eq (toString (index $.Values.podLabels $k)) (toString $v) }}
{{- fail (printf "podLabels must not contain %s=%s: the bridge would match the Mattermost pod selector (log source and NetworkPolicy peers)" $k $v) }}
{{- end }}
{{- end }}
{{- end }}
