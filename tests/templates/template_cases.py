"""Representative canonical records for template tests: multi-turn, system prompts, tools, reasoning, preference."""

from __future__ import annotations

import json

from workbench.data.record import make_record

TOOLS = json.dumps([{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}])


def cases() -> dict[str, dict]:
    return {
        "single": make_record(id="single", messages=[
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris."}]),
        "system_multi": make_record(id="system_multi", system="You are terse.", messages=[
            {"role": "user", "content": "Hi there"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "  Name a prime <b>&amp;</b> an even number.  "},
            {"role": "assistant", "content": "2 is both — «naïve» 🙂"}]),
        "tool_use": make_record(id="tool_use", system="Use tools when needed.", tools=TOOLS, messages=[
            {"role": "user", "content": "Weather in Paris and Oslo?"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "call00001", "name": "get_weather", "arguments": json.dumps({"city": "Paris"})}]},
            {"role": "tool", "content": "18C, sunny", "tool_call_id": "call00001"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "call00002", "name": "get_weather", "arguments": json.dumps({"city": "Oslo"})}]},
            {"role": "tool", "content": "9C, rain", "tool_call_id": "call00002"},
            {"role": "assistant", "content": "Paris: 18C and sunny. Oslo: 9C with rain."}]),
        "parallel_tools": make_record(id="parallel_tools", tools=TOOLS, messages=[
            {"role": "user", "content": "Weather in Rome?"},
            {"role": "assistant", "content": "Checking.", "tool_calls": [
                {"id": "call00003", "name": "get_weather", "arguments": json.dumps({"city": "Rome"})},
                {"id": "call00004", "name": "get_weather", "arguments": json.dumps({"city": "Milan"})}]},
            {"role": "tool", "content": "25C", "tool_call_id": "call00003"},
            {"role": "tool", "content": "22C", "tool_call_id": "call00004"},
            {"role": "assistant", "content": "Rome 25C, Milan 22C."}]),
        "reasoning": make_record(id="reasoning", messages=[
            {"role": "user", "content": "What is 17 * 3?"},
            {"role": "assistant", "content": "51", "reasoning": "17 * 3 = 51."}]),
        "preference": make_record(id="preference", kind="preference", system="Be kind.", messages=[
            {"role": "user", "content": "I failed my exam."},
            {"role": "assistant", "content": "I'm sorry to hear that. What happened?"},
            {"role": "user", "content": "I didn't study."}],
            chosen=[{"role": "assistant", "content": "Next time, start a week early."}],
            rejected=[{"role": "assistant", "content": "Then you deserved it."}]),
        "not_alternating": make_record(id="not_alternating", messages=[
            {"role": "user", "content": "One."},
            {"role": "user", "content": "Two."},
            {"role": "assistant", "content": "Three."}]),
        "late_system": make_record(id="late_system", messages=[
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi."},
            {"role": "system", "content": "From now on, answer in French."},
            {"role": "user", "content": "Good night"},
            {"role": "assistant", "content": "Bonne nuit."}]),
        "ends_with_user": make_record(id="ends_with_user", messages=[
            {"role": "user", "content": "Anyone there?"}]),
    }
