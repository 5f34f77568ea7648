// The one account and region every local stand-in answers for (ARNs, queue URLs, event records).
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
