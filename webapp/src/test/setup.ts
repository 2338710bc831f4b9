// Set-up for the webapp's jest project (jsdom).
import '@testing-library/jest-dom';
