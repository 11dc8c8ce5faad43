export { healthSubject, serviceNamed, serviceVariables, SERVICES, type ServiceEntry } from './services';
