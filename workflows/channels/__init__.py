"""Notification channels beyond the in-app inbox: WeCom and DingTalk group robots, and e-mail.

``dispatch.announce`` records one delivery per enabled channel in the caller's transaction; a task
sends it after commit and retries with backoff, so a channel that is down never blocks a workflow.
"""
