-- Argo CD health check for frontier.dev/ClassifierModel (register it in argocd-cm, see argocd-cm.yaml).
-- It reads only the status the operator writes: phase, conditions, observedGeneration.
--   Progressing  the operator has not seen the latest spec yet, or it is training / benchmarking
--   Degraded     condition Degraded=True, or phase Failed / Degraded
--   Healthy      condition Ready=True (a version is promoted and served)
local hs = {status = "Progressing", message = "Waiting for the operator to report status"}
if obj.status == nil then
  return hs
end
local status = obj.status

-- A status written for an older spec says nothing about the one Argo CD just synced.
local generation = obj.metadata and obj.metadata.generation
local observed = status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local conditions = {}
if status.conditions ~= nil then
  for _, condition in ipairs(status.conditions) do
    conditions[condition.type] = condition
  end
end
local function is_true(kind)
  return conditions[kind] ~= nil and conditions[kind].status == "True"
end
local function say(kind, fallback)
  local condition = conditions[kind]
  if condition ~= nil and condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  return fallback
end

local phase = status.phase or "Pending"
if is_true("Degraded") or phase == "Failed" or phase == "Degraded" then
  hs.status = "Degraded"
  hs.message = say("Degraded", "phase " .. phase)
  return hs
end
if phase == "Training" or phase == "Benchmarking" or phase == "Pending" or is_true("Training") then
  hs.status = "Progressing"
  hs.message = say("Training", "phase " .. phase)
  return hs
end
if is_true("Ready") then
  hs.status = "Healthy"
  hs.message = say("Ready", "serving")
  if status.promoted ~= nil and status.promoted.version ~= nil then
    hs.message = "v" .. tostring(status.promoted.version) .. " promoted: " .. hs.message
  end
  return hs
end
hs.message = say("Ready", "phase " .. phase)
return hs
