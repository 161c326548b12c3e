"""The message centre (站内消息): what the platform tells a user, a department or a role."""
