-- wrk script: every request posts a different Picktime booking (the same body repeated would only measure dedupe).
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  run_id = args[1] or "run"
  token = args[2] or ""
  path = args[3] or "/webhooks/picktime"
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
end

function request()
  counter = counter + 1
  local id = string.format("%s-%d-%d", run_id, tid, counter)
  local body = '{"dataObject":{"videoMeeting":false,"event_id":"' .. id .. '","account_id":"b7XX3-a25e-4ae1-8a0c-6aXXXX71",'
    .. '"event_type":"appointment","event_duration":75,"padding_before":0,"padding_after":15,"booking_id":"B' .. id .. '",'
    .. '"price":100,"booking_notes":"Booking Notes Check","location_name":"Louisville","video_meeting":false,'
    .. '"service_names":["Hair Cut"],"sub_service_names":[],"team_member_name":["John Doe"],"resource_names":["MeetingRoom"],'
    .. '"resource_linked":true,"customer_name":"Dino Powlowski","paid":false,"event_status":"new",'
    .. '"start_date_time_gmt":1732195800,"end_date_time_gmt":1732200300,"free_event":false,"all_day":false,'
    .. '"unique_id":"1mB51IXXXXXXAXudsB","blocked":false,"mobile_no":"16319055031","alt_mobile_no":"",'
    .. '"email":"dino@example.com","address":"Guadalupe St","city":"Austin","state":"Texas","zip":"78155",'
    .. '"cancel_url":"https://www.picktime.com/cancel/71XXd-6a9b-43dd-9798-6e3XXX7f"},"status":true,"type":"CREATE"}'
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout))
end
